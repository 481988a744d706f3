"""The lenses (`w`): s_l, ‖∂C/∂W^l‖, the update ratio and the saturated/dead fraction; each panel says which."""

import pytest

from vgrad.core.view.lens import WEIGHT
from vgrad.core.view.summary import speed_text
from vgrad.tui.widgets import LayerRow, NetPanel, ScaleLegend, SpeedScale


def test_weight_lens(snap_compare, replay_app):
    """After `w`: every panel titled ‖∂C/∂W‖, the legend and scale in ‖∂C/∂W‖, h1:h4 of the weights."""
    assert snap_compare(replay_app("lenses2.jsonl"), press=["w"], terminal_size=(120, 40))


def test_w_switches_every_number_to_the_weight_lens_and_back(replay_app, drive):
    app = replay_app("lenses2.jsonl")
    record = app.board.snapshot().nets[0].latest

    async def scenario(pilot):
        app.poll(force=True)          # the first poll, which a loaded machine may not have run yet
        await pilot.pause()
        row = app.query(LayerRow).first()
        assert row.speed == speed_text(record.speed[0])
        app.query_one(ScaleLegend).scale = wide = SpeedScale(-12.0, 3.0)  # grown by the bias lens, say
        await pilot.press("w")
        await pilot.pause()
        assert app.lens == WEIGHT
        assert row.speed == speed_text(record.weight_grad[0])
        assert "‖∂C/∂W‖" in app.query_one(NetPanel).border_title
        assert app.query_one(ScaleLegend).symbol == "‖∂C/∂W‖"
        assert app.query_one(ScaleLegend).scale != wide   # a new lens starts a new scale
        await pilot.press("w")
        await pilot.pause()
        assert row.speed == speed_text(record.speed[0])
        assert app.query_one(NetPanel).border_title == "784-30-30-30-30-10"
    drive(app, scenario)


def test_the_update_ratio_lens(snap_compare, replay_app):
    """w twice on a file with every lens: ‖Δθ‖/‖θ‖, ↓ and ↑ on the layers outside 1e-4…1e-2, the
    headline counting them."""
    assert snap_compare(replay_app("lenses_mlp.jsonl"), press=["w", "w"], terminal_size=(120, 40))


def test_the_saturation_lens(snap_compare, replay_app):
    """w three times: one row per activation, 0–100 % on a linear scale, the headline the worst layer."""
    assert snap_compare(replay_app("lenses_mlp.jsonl"), press=["w", "w", "w"], terminal_size=(120, 40))


@pytest.mark.slow  # 2-3 s: a Textual pilot drives several keys or a plot
def test_the_smoothed_plot(snap_compare, replay_app):
    """s then p: the moving average over 20 records, the raw min–max band faint behind, the caption says EMA 20."""
    assert snap_compare(replay_app("lenses_mlp.jsonl"), press=["s", "p"], terminal_size=(120, 40))


@pytest.mark.slow  # 2-3 s: a Textual pilot drives several keys or a plot
def test_w_cycles_every_lens_the_file_has_and_the_plot_follows(replay_app, drive):
    app = replay_app("lenses_mlp.jsonl")

    async def scenario(pilot):
        app.poll(force=True)
        await pilot.pause()
        panel = app.panels[0]
        seen = []
        for _ in range(4):
            seen.append((app.lens, panel.border_subtitle))
            await pilot.press("w")
            await pilot.pause()
        assert [lens for lens, _ in seen] == ["bias", "weight", "update", "saturation"] and app.lens == "bias"
        assert seen[2][1].endswith("· 2 outside 1e-4…1e-2") and seen[3][1].startswith("worst net.1: ")
        assert [row.name_text for row in panel.rows] == list(app.board.snapshot().nets[0].spec.layer_names)
        await pilot.press("p")
        await pilot.pause()
        caption = str(app.screen.query_one("#caption-0").render())
        assert "update" not in caption
        await pilot.press("w", "w")
        await pilot.pause()
        app.screen.redraw()
        caption = str(app.screen.query_one("#caption-0").render())
        assert "update ratio" in caption and "outside 1e-4…1e-2" in caption
    drive(app, scenario)
