"""Every layer of a deep model in one view: the heatmap, binned to fit, folded and unfolded."""

import pytest

from vgrad.core.view.lens import WEIGHT
from vgrad.tui.widgets.heatmap import line_groups, line_label


def test_line_groups_keep_the_first_and_last_rows_alone_and_every_row_somewhere():
    assert line_groups(4, 10) == [(0,), (1,), (2,), (3,)]
    groups = line_groups(500, 30)
    assert len(groups) == 30 and groups[0] == (0,) and groups[-1] == (499,)
    assert [row for group in groups for row in group] == list(range(500))


def test_binned_lines_name_the_blocks_they_span():
    assert line_label(["h.8.a.c_attn", "h.9.a.c_attn", "h.12.mlp.c_fc"], 14) == "h.8–12"
    assert line_label(["h.8.a.c_attn", "h.8.mlp.c_fc"], 14) == "h.8"
    assert line_label(["wpe", "h.0.a.c_attn"], 14) == "wpe +1"
    assert line_label(["h.120.a.c_attn", "ln_f"], 14) == "h.120… +1"
    assert line_label(["lm_head"], 14) == "lm_head"


def test_two_lines_in_one_block_never_read_alike():
    """At 80×24 a Llama's block 0 takes two lines: `m.l.0` twice said nothing; each names its first row."""
    from vgrad.tui.widgets.heatmap import line_labels

    groups = [["m.l.0.s.q_proj", "m.l.0.s.k_proj"], ["m.l.0.m.up_proj", "m.l.0.m.do_proj"], ["m.l.1.a", "m.l.1.b"]]
    assert line_labels(groups, 14) == ["…0.s.q_proj +1", "….m.up_proj +1", "m.l.1"]


def test_a_500_layer_model_fits_at_120x40_with_its_first_and_last_layers_and_headline(replay_app, drive):
    """Nothing cut: every layer on some line, the panel's border (the headline) on screen."""
    app = replay_app("deep500.jsonl")

    async def scenario(pilot):
        app.poll(force=True)
        await pilot.pause()
        panel = app.panels[0]
        assert panel.heatmap_mode and app.lens == WEIGHT          # bias-free: the weight lens, said in the title
        assert "‖∂C/∂W‖" in panel.border_title and panel.border_subtitle == "wte → ln_f = 1:401"
        assert app.screen.region.contains_region(panel.region)
        lines = panel.heatmap.drawing[1:-1]
        assert lines[0][0][0].strip() == "wte" and lines[-1][0][0].strip() == "lm_head"
        assert len(lines) <= 40 and app.query_one("#nets").max_scroll_y == 0
    drive(app, scenario, size=(120, 40))


def test_a_500_layer_model_as_a_heatmap(snap_compare, replay_app):
    """Unfolded: 500 layers on the lines there are, each line naming the blocks it spans."""
    assert snap_compare(replay_app("deep500.jsonl"), terminal_size=(120, 40))


def test_a_500_layer_model_folded_into_blocks(snap_compare, replay_app):
    """f: one row per block (root-sum-square of its four layers' norms), the title says so."""
    assert snap_compare(replay_app("deep500.jsonl"), press=["f"], terminal_size=(120, 40))


@pytest.mark.slow  # 2-3 s: a Textual pilot drives several keys or a plot
def test_a_ten_thousand_layer_model_opens_as_one_heatmap(tmp_path, drive):
    """No widget per layer: 10,000 layers binned to the lines of a 100x30 terminal, both ends named."""
    import json

    from vgrad.core.record.reader import read_run
    from vgrad.tui.app import make_replay_app

    names = [f"layers.{i}.fc" for i in range(10_000)]
    path = tmp_path / "deep.jsonl"
    header = {"type": "run", "format": 3, "vgrad": "x", "source": "test",
              "nets": [{"id": 0, "name": "big", "layers": names, "lens": "weight"}]}
    step = {"type": "step", "net": 0, "step": 0, "speed": [None] * 10_000, "neurons": [[]] * 10_000,
            "cost": 1.0, "weight_grad": [1e-3 * (1 + i / 1000) for i in range(10_000)]}
    path.write_text(json.dumps(header) + "\n" + json.dumps(step) + "\n")
    app = make_replay_app(read_run(path), name="deep.jsonl", autoplay=False)
    app.controls.jump_end()

    async def scenario(pilot):
        app.poll(force=True)
        await pilot.pause()
        panel = app.panels[0]
        lines = panel.heatmap.drawing[1:-1]
        assert panel.heatmap_mode and not panel.rows and len(lines) < 30
        assert lines[0][0][0].strip() == "layers.0.fc" and lines[-1][0][0].strip() == "layers.9999.fc"
    drive(app, scenario, size=(100, 30))
