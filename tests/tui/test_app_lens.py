"""The weight lens (`w`): the dashboard shows ‖∂C/∂W^l‖ instead of s_l, and says so."""

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
