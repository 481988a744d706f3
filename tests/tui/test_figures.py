"""`vgrad-tui plot`: the book's figures from a recording, as PNG or SVG; bad paths exit 2."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vgrad.tui.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "run.jsonl"
    result = runner.invoke(app, ["run", "--no-ui", "--epochs", "5", "--net", "784-30-30-10",
                                 "--net", "784-1-1-1-1-10:explode", "--record", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
@pytest.mark.slow  # about 2 s: the full suite runs it
def test_plot_writes_the_figure(recording, tmp_path, suffix, magic):
    out = tmp_path / f"speed{suffix}"
    result = runner.invoke(app, ["plot", str(recording), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


def test_the_svg_shows_each_net_and_the_saturation_note(recording, tmp_path):
    out = tmp_path / "speed.svg"
    runner.invoke(app, ["plot", str(recording), "-o", str(out)])
    text = out.read_text()
    assert "784-30-30-10" in text and "784-1-1-1-1-10:explode" in text and "saturated" in text and "h1:h4 = " in text


@pytest.mark.parametrize("args, culprit", [
    (["-o", "fig.gif"], ".png, .svg or .pdf"), (["-o", "/no/such/dir/fig.png"], "does not exist"),
])
def test_bad_output_paths_exit_2(recording, args, culprit):
    result = runner.invoke(app, ["plot", str(recording), *args])
    assert result.exit_code == 2 and culprit in result.output


def test_plot_refuses_a_file_that_is_not_a_run(tmp_path):
    bogus = tmp_path / "x.jsonl"
    bogus.write_text("{}\n")
    result = runner.invoke(app, ["plot", str(bogus), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "not a vgrad run" in result.output


@pytest.mark.parametrize("neurons", ["1", "13", "1000000000"])
def test_chain_refuses_a_length_outside_2_to_12(neurons, monkeypatch):
    """On a terminal (without one, chain refuses first, before textual and scipy load)."""
    monkeypatch.setattr("vgrad.tui.console.on_a_terminal", lambda: True)
    result = runner.invoke(app, ["chain", "--neurons", neurons])
    assert result.exit_code == 2 and f"--neurons {neurons}: a chain has 2 to 12 neurons" in result.output


def test_plot_through_the_weight_lens_draws_weight_grad(tmp_path):
    """--lens weight: the same figure of ‖∂C/∂W^l‖, titled so."""
    fixture = Path(__file__).parents[1] / "fixtures" / "lenses2.jsonl"
    out = tmp_path / "weight.svg"
    result = runner.invoke(app, ["plot", str(fixture), "-o", str(out), "--lens", "weight"])
    assert result.exit_code == 0, result.output
    assert "weight lens" in out.read_text()


def test_plot_refuses_an_unknown_lens(tmp_path):
    result = runner.invoke(app, ["plot", "any.jsonl", "-o", str(tmp_path / "x.png"), "--lens", "gamma"])
    assert result.exit_code == 2 and "--lens 'gamma'" in result.output


def exploding_figure(**options):
    from vgrad.core.record.reader import read_run
    from vgrad.tui.figures import draw_figure

    return draw_figure(read_run(Path(__file__).parents[1] / "fixtures" / "exploding3.jsonl"), **options)


@pytest.fixture(scope="module")
def figure():
    """The exploding recording's figure, drawn once for every test that only reads it."""
    drawn = exploding_figure()
    drawn.canvas.draw()
    return drawn


def test_every_net_shares_one_y_axis_unless_asked_not_to(figure):
    speed_axes = figure.axes[:3]
    assert len({axis.get_ylim() for axis in speed_axes}) == 1
    own = exploding_figure(share_y=False).axes[:3]
    assert len({axis.get_ylim() for axis in own}) > 1


def test_a_point_with_no_neighbour_gets_a_marker(figure):
    """The explode chain is measured once above 1e-12 (epoch 0), then underflows: that point shows."""
    chain = figure.axes[1]
    marked = [line for line in chain.get_lines() if line.get_marker() == "o" and line.get_linestyle() == "None"]
    assert sorted(x for line in marked for x in line.get_xdata()) == [0, 0, 0, 0]


def test_underflow_is_counted_under_the_axis_not_written_on_the_data(figure):
    chain, dense = figure.axes[1], figure.axes[2]
    assert not chain.texts and "≈ 0 (< 1e-12, saturated) in\n29 of 30 measurements: not drawn" in chain.get_xlabel()
    assert "30 of 30 measurements" in dense.get_xlabel()


def test_titles_carry_the_spec_state_epochs_and_headline(figure):
    titles = [axis.get_title() for axis in figure.axes[:3]]
    assert titles[1] == "784-1-1-1-1-10:explode\ndone · epoch 30/30 · h1:h4 = 0:0"
    assert titles[0].startswith("784-1-1-1-1-10\ndone · epoch 30/30 · h1:h4 = 1:")


def test_the_bar_axis_has_no_offset_label_to_collide_with_its_title(figure):
    bars = figure.axes[3]
    assert bars.yaxis.get_offset_text().get_text() == ""
    assert "neuron 1 after 29 epochs" in bars.get_title()     # counted as the title's epoch 30/30 counts


@pytest.fixture(scope="module")
def book_figure():
    from vgrad.core.record.reader import read_run
    from vgrad.tui.figures import draw_figure

    drawn = draw_figure(read_run(Path(__file__).parents[1] / "fixtures" / "book3.jsonl"))
    drawn.canvas.draw()
    return drawn


def test_each_nets_bars_have_their_own_y_range_while_the_speeds_share_one():
    """The bars' sizes differ by decades between nets (0.001 beside relu's 0.2): on one shared
    range all but one net were flat lines."""
    from vgrad.core.record.reader import read_run
    from vgrad.tui.figures import draw_figure

    figure = draw_figure(read_run(Path(__file__).parents[1] / "fixtures" / "remedies4.jsonl"))
    speeds, bars = figure.axes[:4], figure.axes[4:]
    assert len({axis.get_ylim() for axis in speeds}) == 1
    for axis in bars:
        tallest = max(abs(patch.get_height()) for patch in axis.patches)
        low, high = axis.get_ylim()
        assert tallest > 0.5 * max(abs(low), abs(high))        # the tallest bar fills its own axis


def test_the_legend_sits_outside_the_data_and_its_entries_apart(book_figure):
    renderer = book_figure.canvas.get_renderer()
    for axis in book_figure.axes[:3]:
        legend = axis.get_legend()
        box = legend.get_window_extent(renderer)
        assert not box.overlaps(axis.get_window_extent(renderer))
        texts = [text.get_window_extent(renderer) for text in legend.get_texts()]
        assert not any(a.overlaps(b) for i, a in enumerate(texts) for b in texts[i + 1:])


@pytest.mark.parametrize("lens, quantity", [("bias", "speed of learning ‖∂C/∂b_l‖"), ("weight", "‖∂C/∂W_l‖")])
def test_the_y_label_names_the_quantity_drawn(lens, quantity):
    from vgrad.core.record.reader import read_run
    from vgrad.tui.figures import draw_figure

    figure = draw_figure(read_run(Path(__file__).parents[1] / "fixtures" / "lenses2.jsonl"), lens=lens)
    assert quantity in figure.axes[0].get_ylabel()


def test_bars_that_are_all_zero_say_so(figure):
    assert "every one is 0" in figure.axes[4].get_title()


def header_only(tmp_path, end=None, steps=0):
    """A run file: book3's header, its first `steps` step lines, and an `end` line if given."""
    lines = (Path(__file__).parents[1] / "fixtures" / "book3.jsonl").read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if '"type": "step"' in line][:steps]
    if end:
        kept.append(json.dumps({"type": "end", "status": end, "elapsed": 1.0}))
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(kept) + "\n")
    return path


def test_plot_of_a_file_with_no_step_writes_nothing_and_exits_2(tmp_path):
    out = tmp_path / "speed.png"
    result = runner.invoke(app, ["plot", str(header_only(tmp_path)), "-o", str(out)])
    assert result.exit_code == 2 and "no step recorded, nothing to draw" in result.output
    assert not out.exists()


def test_a_run_that_says_interrupted_is_titled_interrupted(tmp_path):
    from vgrad.core.record.reader import read_run
    from vgrad.tui.figures import draw_figure

    figure = draw_figure(read_run(header_only(tmp_path, end="interrupted", steps=30)))
    titles = [axis.get_title() for axis in figure.axes[:3]]
    assert all("\ninterrupted · " in title for title in titles), titles



@pytest.mark.slow  # about 3 s: matplotlib draws a 500-row heatmap and a smoothed figure
def test_plot_draws_the_heatmap_folded_and_a_smoothed_lens(tmp_path):
    """--heatmap --fold on 500 layers, and --lens update --smooth 8: titled with the lens and EMA."""
    fixtures = Path(__file__).parents[1] / "fixtures"
    heat = tmp_path / "deep.svg"
    result = runner.invoke(app, ["plot", str(fixtures / "deep500.jsonl"), "-o", str(heat), "--heatmap", "--fold"])
    assert result.exit_code == 0, result.output
    text = heat.read_text()
    assert "wte → ln_f = 1:401" in text and "lm_head" in text
    assert "∂C/∂b_j" not in text   # no neuron recorded anywhere: no empty bars panel
    smooth = tmp_path / "update.svg"
    result = runner.invoke(app, ["plot", str(fixtures / "lenses_mlp.jsonl"), "-o", str(smooth),
                                 "--lens", "update", "--smooth", "8"])
    assert result.exit_code == 0, result.output
    text = smooth.read_text()
    assert "moving average over 8 records" in text and "EMA 8" in text and "outside 1e-4…1e-2" in text


def test_a_deep_model_is_drawn_as_a_heatmap_unless_lines_are_asked_for(tmp_path):
    """Above HEATMAP_DEPTH layers the plot opens as the dashboard does, on the heatmap: 500 lines and
    their legend would cover the figure. --lines draws them anyway, each depth its own colour."""
    import matplotlib

    from vgrad.core.record.reader import read_run
    from vgrad.core.run.layers import shown_recording
    from vgrad.tui.figures import draw_figure

    matplotlib.use("Agg")
    fixtures = Path(__file__).parents[1] / "fixtures"
    deep = shown_recording(read_run(fixtures / "deep500.jsonl"), None)
    heat = draw_figure(deep)
    assert len(heat.axes) == 2 and heat.axes[0].collections   # one heatmap and its colour bar, no bars row
    lines = draw_figure(deep, heatmap=False)
    colours = {tuple(line.get_color()) for line in lines.axes[0].get_lines()}
    assert len(lines.axes[0].get_lines()) >= 500 and len(colours) > 200   # viridis has 256
    book = draw_figure(read_run(fixtures / "book3.jsonl"))
    assert len(book.axes) == 6 and not any(axis.collections for axis in book.axes[:3])   # lines, and the bars row
