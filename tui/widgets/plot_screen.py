"""The `p` view: the book's figure, s_l against training steps on a log axis, one chart per net,
every chart's x axis spanning the longest run so a chart fills as its net trains. Each chart's
two-line caption holds its spec, state, headline and the legend, so nothing covers the lines and
every chart is as tall as the others. The log axis puts its decades on evenly spaced rows, each
where plotext draws that value; a chart with no room for that says so instead."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual_plotext import PlotextPlot

from vgrad.core.run.board import BoardView, NetView
from vgrad.core.view.scale import SpeedScale, shared_scale
from vgrad.core.view.summary import ZERO_FLOOR, headline_text
from vgrad.tui.widgets.log_sparkline import run_steps
from vgrad.tui.widgets.status_line import state_text

REDRAW_SECONDS = 0.25
# one colour per hidden layer as RGB (Okabe-Ito), so the chart and its caption agree on any terminal theme
LAYER_COLOURS = ((86, 180, 233), (230, 159, 0), (0, 158, 115), (204, 121, 167), (240, 228, 66),
                 (0, 114, 178), (213, 94, 0), (200, 200, 200))


# a log axis is drawn truthfully only with two decade ticks on rows of their own and this many columns
# of data; ticks stand a blank row apart unless the chart has fewer than ROOMY_ROWS rows
MIN_ROWS, ROOMY_ROWS = 3, 6
MIN_CANVAS_COLUMNS = 12
# rows and columns of a chart that plotext keeps for itself: the frame, the x tick labels, the x label
FRAME_ROWS, FRAME_COLUMNS = 4, 2
DECADE_STEPS = (1, 2, 3, 5, 10, 20, 50, 100)
TOO_SMALL = "too small for a true log axis: enlarge the terminal"


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def caption_lines(net: NetView, width: int) -> tuple[Content, Content]:
    """`784-30-30-30-30-10  ✔ done` over `h1:h4 = 1:124  ━h1 ━h2 ━h3 ━h4` (each ━ in its line's
    colour), the second line closed up where `width` is short, then either line cut with …."""
    top = Content.assemble((net.spec.label, "bold"), f"  {state_text(net)}")
    headline = headline_text(net.latest, names=net.spec.layer_names)
    keys = [(f"━h{layer + 1}", hex_colour(LAYER_COLOURS[layer % len(LAYER_COLOURS)]))
            for layer in range(net.spec.hidden)]
    for gap, between in (("  ", " "), (" ", "")):
        parts: list = [headline + gap] if headline else []
        for index, key in enumerate(keys):
            parts.extend([between] * (index > 0) + [key])
        bottom = Content.assemble(*parts)
        if bottom.cell_length <= width:
            break
    return top.truncate(width, ellipsis=True), bottom.truncate(width, ellipsis=True)


class PlotCaption(Widget):
    """A chart's caption: always two lines, never wrapped, so every chart in a row starts on
    the same line and their y ticks line up."""

    DEFAULT_CSS = """
    PlotCaption {
        height: 2;
    }
    """

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.net: NetView | None = None

    def show(self, net: NetView) -> None:
        self.net = net
        self.refresh()

    def render(self) -> RenderResult:
        if self.net is None:
            return Content("")
        return Content("\n").join(caption_lines(self.net, max(1, self.size.width)))

    def get_content_height(self, container, viewport, width: int) -> int:
        return 2


@dataclass(frozen=True)
class LogAxis:
    """A log10 y axis on a canvas of `rows` rows: ticks every `step` decades, `spacing` rows apart
    from the bottom row, and the y range [lo, hi] that puts tick k exactly on row k·spacing."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    spacing: int

    @property
    def labels(self) -> list[str]:
        return [f"1e{round(tick)}" for tick in self.ticks]


def log_axis(lo: float, hi: float, rows: int) -> LogAxis | None:
    """The axis covering log10 values lo … hi on `rows` rows, with the fewest decades per tick
    that leave a blank row between ticks (on a short chart, that put them on rows of their own);
    None when the chart is too short for that.
    plotext puts value y on row round((rows − 1)(y − lo)/(hi − lo)) (its braille dots at four
    times that), so a tick every `spacing` rows needs hi − lo = (rows − 1)·step/spacing."""
    if rows < MIN_ROWS:
        return None
    least = 2 if rows >= ROOMY_ROWS else 1
    for step in DECADE_STEPS:
        first = math.floor(lo)
        intervals = max(1, math.ceil((hi - first) / step))
        spacing = (rows - 1) // intervals
        if spacing >= least:
            ticks = tuple(float(first + step * k) for k in range(intervals + 1))
            return LogAxis(first, first + (rows - 1) * step / spacing, ticks, spacing)
    return None


def step_ticks(last: int, count: int = 5) -> list[int]:
    """About `count` round numbers from 0 to `last`."""
    if last <= 0:
        return [0]
    raw = last / (count - 1)
    size = 10 ** math.floor(math.log10(raw))
    step = min((size * m for m in (1, 2, 5, 10)), key=lambda candidate: abs(candidate - raw))
    return list(range(0, last + 1, max(1, int(step))))


class SpeedPlot(PlotextPlot):
    """One net: a line of log10 s_l per hidden layer (plotted as log10 values: plotext 5
    re-applies yscale("log") on every render), on the decades all charts share and the steps of
    the longest run. The y axis is laid out for the size the chart is drawn at."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.scale: SpeedScale | None = None

    def show(self, net: NetView, scale: SpeedScale, last_step: int) -> None:
        plt = self.plt
        plt.clear_data()
        history = net.history
        x = [record.step for record in history]
        for layer in range(net.spec.hidden):
            points = [(step, math.log10(record.speed[layer])) for step, record in zip(x, history)
                      if record.speed[layer] is not None and ZERO_FLOOR <= record.speed[layer] < math.inf]
            if points:
                plt.plot([p[0] for p in points], [p[1] for p in points], marker="braille",
                         color=LAYER_COLOURS[layer % len(LAYER_COLOURS)])
        by_epoch = all(record.step == record.epoch for record in history)
        plt.xlabel("epoch" if by_epoch else "mini-batch step")
        plt.xlim(0, max(1, last_step))
        plt.xticks(step_ticks(last_step))
        self.scale = scale
        self.refresh()

    def axis(self, width: int, height: int) -> LogAxis | None:
        """The y axis for a chart of width × height cells, or None if it cannot be drawn truthfully."""
        if self.scale is None:
            return None
        axis = log_axis(self.scale.lo, self.scale.hi, height - FRAME_ROWS)
        if axis is None or width - FRAME_COLUMNS - max(map(cell_len, axis.labels)) < MIN_CANVAS_COLUMNS:
            return None
        return axis

    def render(self) -> RenderResult:
        axis = self.axis(self.size.width, self.size.height)
        if axis is None:
            return Text(TOO_SMALL if self.scale is not None else "", justify="center", style="italic")
        self.plt.ylim(axis.lo, axis.hi)
        self.plt.yticks(list(axis.ticks), axis.labels)
        return super().render()


class PlotScreen(Screen[None]):
    """Every net's chart in a grid, redrawn from the newest BoardView that `view` gives a few
    times a second, when `may_redraw(shown, newest)` allows (plotext charts are not cheap)."""

    BINDINGS = [Binding("escape,p", "close", "panels", tooltip="back to the panels")]

    def __init__(self, view: Callable[[], BoardView],
                 may_redraw: Callable[[BoardView, BoardView], bool] = lambda shown, view: True,
                 **options) -> None:
        super().__init__(**options)
        self.view = view
        self.may_redraw = may_redraw
        self._shown: BoardView | None = None
        self._scale: SpeedScale | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        view = self.view()
        with Grid(id="plots", classes=f"plots-{len(view.nets)}"):
            for net in view.nets:
                with Vertical(classes="plot-card"):
                    yield PlotCaption(id=f"caption-{net.index}", classes="plot-caption")
                    yield SpeedPlot(id=f"plot-{net.index}")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(REDRAW_SECONDS, self.redraw)

    def redraw(self) -> None:
        """Draw the newest view, if it moved and may_redraw allows."""
        view = self.view()
        if self._shown is not None and (view.version == self._shown.version
                                        or not self.may_redraw(self._shown, view)):
            return
        self._shown = view
        self._scale = scale = shared_scale(view.nets, log=True, previous=self._scale)
        last_step = max((run_length(net) for net in view.nets), default=0)
        for net in view.nets:
            self.query_one(f"#caption-{net.index}", PlotCaption).show(net)
            self.query_one(f"#plot-{net.index}", SpeedPlot).show(net, scale, last_step)

    def action_close(self) -> None:
        self.dismiss()


def run_length(net: NetView) -> int:
    """The steps a net's run takes (the steps so far while that is not known yet)."""
    history = net.history
    return run_steps(history, net.total_epochs) or (history[-1].step if history else 0)
