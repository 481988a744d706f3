"""The `p` view tells the truth at every size: decades on evenly spaced rows, each where a value
of that decade is drawn; "too small" where that cannot be; captions that never wrap; every
chart's x axis spanning the same steps."""

import math

import pytest
from textual_plotext.plot import Plot

from vgrad.tui.widgets.plot_screen import (
    FRAME_ROWS,
    TOO_SMALL,
    PlotCaption,
    SpeedPlot,
    log_axis,
    step_ticks,
)


def tick_rows(lines: list[str]) -> dict[str, int]:
    """The row (0 = top) of every y tick label `1eN` in a plotext chart's text."""
    return {line.split("┤")[0].strip(): row for row, line in enumerate(lines) if "┤" in line}


def drawn_rows(lines: list[str]) -> list[int]:
    """The rows holding braille dots."""
    return [row for row, line in enumerate(lines) if any("\u2801" <= char <= "\u28ff" for char in line)]


def chart(lo: float, hi: float, width: int, height: int, value: float | None = None) -> list[str]:
    """A bare plotext chart laid out as SpeedPlot lays it out, with one flat line at `value`."""
    axis = log_axis(lo, hi, height - FRAME_ROWS)
    assert axis is not None
    plt = Plot()
    plt._limit_size(False, False)   # plotext would clamp the chart to the terminal running the tests
    plt.plotsize(width, height)
    if value is not None:
        plt.plot([0, 100], [math.log10(value)] * 2, marker="braille")
    plt.xlabel("epoch")
    plt.xlim(0, 100)
    plt.xticks(step_ticks(100))
    plt.ylim(axis.lo, axis.hi)
    plt.yticks(list(axis.ticks), axis.labels)
    return plt.uncolorize(plt.build()).split("\n")


@pytest.mark.parametrize("rows", range(3, 30))
@pytest.mark.parametrize("lo, hi", [(-6, 0), (-5, 0), (-13, 2), (-2, -1), (-4, 1)])
def test_decade_ticks_are_evenly_spaced_and_cover_the_range(lo, hi, rows):
    axis = log_axis(lo, hi, rows)
    assert axis is not None
    steps = {b - a for a, b in zip(axis.ticks, axis.ticks[1:])}
    assert len(steps) == 1 and axis.ticks[0] <= lo and axis.ticks[-1] >= hi
    assert axis.spacing >= (2 if rows >= 6 else 1) and (len(axis.ticks) - 1) * axis.spacing <= rows - 1
    assert axis.lo == axis.ticks[0] and axis.hi >= axis.ticks[-1]


def test_no_axis_where_two_ticks_cannot_stand_apart():
    assert log_axis(-6, 0, 2) is None


@pytest.mark.parametrize("width, height", [(30, 7), (30, 8), (36, 9), (40, 12), (58, 17), (80, 30)])
def test_every_tick_sits_on_its_own_row_evenly_and_a_value_is_drawn_on_its_decade(width, height):
    """At 80×24 the ticks once read 1e0, 1e-1, 1e-3, 1e-5, 1e-6 on consecutive rows, and a curve
    ending at 0.0079 was drawn on the 1e-1 row."""
    axis = log_axis(-6, 0, height - FRAME_ROWS)
    rows = tick_rows(chart(-6, 0, width, height, value=1.0))   # plotext draws no ticks without data
    assert list(rows) == list(reversed(axis.labels))            # every label drawn, top down
    gaps = {b - a for a, b in zip(rows.values(), list(rows.values())[1:])}
    assert gaps == {axis.spacing}
    for label, row in rows.items():
        assert drawn_rows(chart(-6, 0, width, height, value=10 ** float(label[2:]))) == [row]


def test_the_chart_says_too_small_instead_of_a_false_axis(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("p")
        await pilot.pause()
        plot = app.screen.query_one("#plot-2", SpeedPlot)
        assert TOO_SMALL in str(plot.render())
    drive(app, scenario, size=(50, 12))


def test_captions_keep_two_lines_and_charts_line_up(replay_app, drive):
    """At 60×20 a four-layer net's caption once wrapped onto three lines, pushing its chart down."""
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("p")
        captions = list(app.screen.query(PlotCaption))
        while not all("done" in caption.render().plain for caption in captions):
            await pilot.pause(0.05)   # the charts follow the app's next poll
        assert {caption.size.height for caption in captions} == {2}
        lines = [caption.render().plain.split("\n") for caption in captions]
        assert all(len(line) <= captions[0].size.width for pair in lines for line in pair)
        assert "━h4" in lines[2][1] and lines[2][1].startswith("h1:h4 = 1:")
        plots = list(app.screen.query(SpeedPlot))
        assert plots[0].region.y == plots[1].region.y and plots[0].size.height == plots[1].size.height
    drive(app, scenario, size=(60, 20))


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_every_chart_spans_the_longest_run(replay_app, drive):
    app = replay_app("sgd2.jsonl", paused_at=5)

    async def scenario(pilot):
        await pilot.press("p")
        await pilot.pause()
        limits = {tuple(plot.plt.monitor.xlim[0]) for plot in app.screen.query(SpeedPlot)}
        assert len(limits) == 1
    drive(app, scenario, size=(120, 40))


def test_plot_view_at_80x24(snap_compare, replay_app):
    """`p` at 80×24: decades evenly spaced, captions on two lines, the charts aligned."""
    assert snap_compare(replay_app("book3.jsonl"), press=["p"], terminal_size=(80, 24))


def test_plot_view_at_60x20(snap_compare, replay_app):
    """`p` at 60×20: fewer ticks, still evenly spaced, and nothing wraps."""
    assert snap_compare(replay_app("book3.jsonl"), press=["p"], terminal_size=(60, 20))


def test_step_ticks_are_round_numbers():
    assert step_ticks(500) == [0, 100, 200, 300, 400, 500]
    assert step_ticks(60) == [0, 10, 20, 30, 40, 50, 60]
    assert step_ticks(12_000) == [0, 2000, 4000, 6000, 8000, 10_000, 12_000]
    assert step_ticks(0) == [0]

