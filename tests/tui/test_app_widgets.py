"""The dashboard's drawing helpers: formatting, the shared scale, sparkline columns, neuron bars,
status packing. nan and inf must draw, never raise."""

import math
from pathlib import Path

import pytest

from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import NetView
from vgrad.core.spec import parse_net
from vgrad.core.view.lens import BIAS
from vgrad.core.view.scale import SpeedScale, shared_scale
from vgrad.core.view.series import series
from vgrad.tui.widgets import NeuronBars
from vgrad.tui.widgets.formatting import gain
from vgrad.tui.widgets.log_sparkline import BAD, ZERO, column_indices, levels, row_runs, run_steps
from vgrad.tui.widgets.net_panel import NetPanel
from vgrad.tui.widgets.neuron_bars import bar, drawing, largest
from vgrad.tui.widgets.status_line import pack, readings, state_text, status_lines

NAN, INF = math.nan, math.inf
SPEC = parse_net("784-30-30-10")


def record(step, speed=(1e-3, 1e-2), epoch=None, accuracy=None, cost=3.0):
    return StepRecord(net=0, epoch=step if epoch is None else epoch, step=step, speed=speed,
                      neurons=((1e-4, -2e-4, 0.0, NAN, 3e-4, -1e-5),) * len(speed), cost=cost,
                      accuracy=accuracy)


def lv(history, layer, *args):
    """The sparkline levels of `layer` in `history` (s_l, two layers)."""
    return levels(series(history, BIAS, ("h1", "h2")), layer, *args)


def net(history, state="running", total=10, message=""):
    return NetView(index=0, spec=SPEC, state=state, latest=history[-1] if history else None,
                   history=tuple(history), total_epochs=total, steps_per_second=123.4, message=message)


@pytest.mark.parametrize("later, earlier, text", [(4.9, 1.0, "×4.9"), (12.3, 1.0, "×12"), (0.74, 1.0, "×0.74"),
                                                  (250.0, 1.0, "×250"), (1.4e5, 1.0, "×1.4e5"),
                                                  (0.004, 1.0, "×1/250"), (1.0, 0.0, "—"), (NAN, 1.0, "—"),
                                                  (1e-3, 1e-17, "—")])
def test_gain(later, earlier, text):
    assert gain(later, earlier) == text


def test_shared_scale_spans_whole_decades_with_headroom_and_ignores_diverged_nets():
    healthy = net([record(0, (1e-4, 3e-2))])
    diverged = net([record(0, (1e80, INF))], state="diverged")
    scale = shared_scale([healthy, diverged])
    assert scale.log and scale.lo == -5.0 and scale.hi == -1.0
    assert scale.fraction(1e80) == 1.0
    assert scale.fraction(INF) is None and scale.fraction(NAN) is None
    assert scale.fraction(0.0) == 0.0
    assert shared_scale([]).lo == -5.0


def test_linear_scale_runs_from_zero():
    scale = shared_scale([net([record(0, (1e-4, 0.0312))])], log=False)
    assert (scale.lo, scale.hi, scale.log) == (0.0, 0.032, False)
    assert scale.legend[0] == "linear scale ▁ 0 … █ 0.0320"


def test_old_columns_hold_still_as_a_run_goes_on():
    scale = SpeedScale(-4.0, 0.0)
    history = [record(i, (10 ** (-i / 5), 0.1)) for i in range(6)]
    early = lv(tuple(history), 0, 10, 1, 10, scale)
    later = lv(tuple(history + [record(6, (1e-3, 0.1))]), 0, 10, 1, 10, scale)
    assert len(early) == 6 and len(later) == 7
    assert later[:6] == early


def test_columns_carry_the_last_record_across_gaps():
    history = (record(0, epoch=0), record(100, epoch=1))
    assert column_indices([r.step for r in history], 4, 200) == [0, 0, 1]


def test_sgd_steps_per_epoch_come_from_epoch_end_records():
    history = (record(0, epoch=0), record(40, epoch=0), record(400, epoch=1), record(440, epoch=1))
    assert run_steps(history, 30) == 12_000
    assert run_steps(history[:2], 30) is None
    assert run_steps((record(0), record(1), record(2)), 500) == 500


def test_a_watched_runs_axis_ends_at_its_newest_records_step_which_takes_the_last_column():
    history = (record(0), record(3), record(6))   # a watched model: no epochs, records numbered from 0
    assert run_steps(history, 0) == 6 and run_steps((), 0) is None
    assert column_indices([r.step for r in history], 7, run_steps(history, 0)) == [0, 0, 0, 1, 1, 1, 2]


def test_bad_and_zero_speeds_draw_as_marks():
    history = (record(0, (NAN, 0.0)), record(1, (INF, 0.0)))
    scale = SpeedScale(-4.0, 0.0)
    assert lv(history, 0, 2, 1, 2, scale) == (BAD, BAD)
    assert lv(history, 1, 2, 1, 2, scale) == (ZERO, ZERO)
    assert "".join(text for text, _ in row_runs((BAD, ZERO, 8), 0, 1)) == "!·█"
    assert "".join(text for text, _ in row_runs((BAD, ZERO, 16), 0, 2)) == "  █"


def test_signed_bars_grow_from_the_axis():
    assert bar(1.0, 1.0, 3) == ("", "███")
    assert bar(-0.5, 1.0, 3) == (" ▐█", "")
    assert bar(0.25, 1.0, 2) == ("", "▌")
    assert bar(-1 / 6, 1.0, 3) == ("  ▐", "")
    assert bar(1e-9, 1.0, 3) == ("", "·")
    assert bar(0.0, 1.0, 3) == ("", "")
    assert bar(NAN, 1.0, 3) == ("nan", "")


def test_neuron_table_survives_nan_and_prints_its_scale():
    lines = drawing(((NAN,) * 6, (1e-3, -2e-3, 0.0, 0.0, 0.0, 0.0)), 2, 30)
    assert lines[0][0][0] == "∂C/∂b_j  full bar 0.00200"
    assert len(lines) == 8
    assert math.isnan(largest(((NAN, INF),)))  # nothing finite to scale to


def test_status_packs_its_parts_and_wraps_the_reason():
    view = net([record(3, accuracy=0.9651)], state="running")
    assert readings(view) == ["epoch  3/10", "cost 3.00    ", "acc  96.5%", " 123 steps/s"]
    assert pack(["a" * 10, "b" * 10, "● running"], 25) == ["aaaaaaaaaa  bbbbbbbbbb", "● running"]
    diverged = net([record(3, cost=NAN)], state="diverged", message="non-finite value at epoch 3, step 3")
    assert state_text(diverged) == "✖ diverged"
    lines = status_lines(diverged, 30)
    assert lines == ["epoch  3/10  cost nan", "✖ diverged", "non-finite value at epoch 3,", "step 3"]


def test_done_shows_every_epoch_complete():
    assert readings(net([record(9)], state="done"))[0] == "epoch 10/10"


def test_panel_heights_and_description():
    spec = parse_net("784-30-30-30-30-10:relu:he:residual")
    assert NetPanel.rows_needed(spec, wide=False, neurons=True) == 2 + 4 + 1 + 8 + 2
    assert NetPanel.rows_needed(spec, wide=True, neurons=True, spark_rows=3) == 2 + 15 + 1
    assert NetPanel.rows_needed(spec, wide=True, neurons=False) == 2 + 4 + 1


def test_the_log_scale_only_grows_so_bars_hold_still():
    early = shared_scale([net([record(0, (3e-3, 0.3))])])
    assert (early.lo, early.hi) == (-4.0, 0.0)          # a decade of headroom below
    later = shared_scale([net([record(0, (3e-3, 0.3)), record(1, (1.5e-3, 0.1))])], previous=early)
    assert later is early                                # in the same decade: nothing moves
    grown = shared_scale([net([record(0, (3e-3, 0.3)), record(2, (2e-5, 0.1))])], previous=early)
    assert (grown.lo, grown.hi) == (-6.0, 0.0)           # out of it: grows, whole decades
    assert shared_scale([net([record(3, (1e-2, 0.2))])], previous=grown) == grown  # never shrinks


def test_the_log_scale_depends_on_the_values_not_on_the_frames_drawn():
    """A restart with the same seed (r) once ended on another legend than the first run: the range
    had grown from whichever frames happened to be drawn, and from the empty range before them."""
    history = [record(0, (3e-3, 0.3)), record(1, (2e-4, 0.1)), record(2, (8e-5, 0.05)), record(3, (1.35e-5, 0.02))]
    ends = set()
    for frames in ([4], [1, 2, 3, 4], [0, 2, 4], [0, 1, 4]):
        scale = None
        for count in frames:
            scale = shared_scale([net(history[:count])], previous=scale)
        ends.add(scale)
        ends.add(shared_scale([net(history)], previous=scale))      # and a restart over the same run
    assert ends == {SpeedScale(-6.0, 0.0)}


def test_underflow_is_near_zero_and_never_stretches_the_scale():
    scale = shared_scale([net([record(0, (1e-35, 0.5)), record(1, (6.9e-17, 1.78))])])
    assert scale.lo >= -12 and scale.fraction(6.9e-17) == 0.0
    assert lv((record(1, (6.9e-17, 1.78)),), 0, 1, 1, 1, scale) == (ZERO,)
    assert "· ≈0 (< 1e-12)" in "".join(scale.legend)


def test_the_linear_view_shows_the_speeds_of_now():
    """Scaled to the largest s_l now, not at epoch 0 (100x larger): the late bars are not all ▁."""
    history = tuple(record(i, (10 ** (-1 - i / 10), 10 ** (-0.5 - i / 20))) for i in range(40))
    scale = shared_scale([net(history, total=40)], log=False)
    assert max(lv(history, 1, 40, 2, 40, scale)[-10:]) > 8          # the late h2 bars stand a row high
    assert min(lv(history, 1, 40, 2, 40, scale)[:5]) == 16          # the early ones clip at the top


def test_the_neuron_bars_before_the_first_step_say_so_instead_of_nan():
    header = drawing((), 2, 30)[0][0][0]
    assert header == "∂C/∂b_j  (no step yet)" and "nan" not in header
    assert drawing(((0.0,) * 6,) * 2, 2, 30)[0][0][0] == "∂C/∂b_j  all 0"


def test_narrow_layers_draw_only_their_own_neurons():
    lines = drawing(((1e-3, -2e-3, 5e-4), (1e-3,)), 2, 30)
    text = ["".join(part for part, _ in line) for line in lines]
    assert [line[:2] for line in text[2:]] == [" 1", " 2", " 3", "  ", "  ", "  "]
    assert text[4].count("│") == 1 and not text[5].strip()   # row 3: only h1 has a third neuron


def test_the_readme_names_the_bar_colours_the_dashboard_and_the_plot_draw(replay_app, drive):
    """Negative ∂C/∂b_j in orange, positive in blue: in the docs, the dashboard and the PNG."""
    readme = (Path(__file__).parents[2] / "docs" / "dashboard.md").read_text()
    assert "blue for positive, orange for negative" in readme and "orange for positive" not in readme
    figures = (Path(__file__).parents[2] / "tui" / "figures.py").read_text()
    assert 'color="tab:orange" if value < 0 else "tab:blue"' in figures
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        bars = app.query_one(NeuronBars)
        negative = bars.get_component_rich_style("neuron-bars--negative").color.triplet
        positive = bars.get_component_rich_style("neuron-bars--positive").color.triplet
        assert negative.red > negative.green > negative.blue          # orange
        assert positive.blue > positive.red                          # blue
    drive(app, scenario)
