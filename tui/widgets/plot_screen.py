"""The `p` view: the book's figure, s_l against training steps on a log axis, one chart per net,
every chart's x axis spanning the longest run so a chart fills as its net trains. Each chart's
two-line caption holds its spec, state, headline and the legend, so nothing covers the lines and
every chart is as tall as the others. The log axis puts its decades on evenly spaced rows, each
where plotext draws that value; a chart with no room for that says so instead."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

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
from vgrad.core.view.lens import BIAS, HEALTHY_UPDATE, LENSES, shown_lens
from vgrad.core.view.scale import SpeedScale, shared_scale
from vgrad.core.view.series import Series, grouped, panel_series
from vgrad.core.view.summary import ZERO_FLOOR, smoothed_headline
from vgrad.tui.widgets.log_sparkline import run_steps
from vgrad.tui.widgets.status_line import state_text

REDRAW_SECONDS = 0.25
MAX_LINES = 16                # a deeper model's chart draws its first, last hidden and output layers
BAND_COLOUR = (80, 80, 80)    # a smoothed line's raw min–max, faint behind it; the update ratio's band edges
HEALTHY_COLOUR = (0, 120, 80)  # the healthy update ratio, 1e-3
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


Look = tuple[str, int, bool]   # the lens, the moving average's N (0: raw), the output in the headline


def caption_lines(net: NetView, width: int, look: Look = (BIAS, 0, False),
                  names: tuple[str, ...] | None = None) -> tuple[Content, Content]:
    """`784-30-30-30-30-10  ✔ done` (and the lens when it is not s_l) over `h1:h4 = 1:124  ━h1 ━h2
    ━h3 ━h4` (each ━ in its line's colour, the layers named as the panels name them), the second
    line closed up where `width` is short, then either line cut with …."""
    lens, smoothed, output = look
    top = Content.assemble((net.spec.label, "bold"), f"  {state_text(net)}",
                           *([f"  {LENSES[lens].title}"] if lens != BIAS else []))
    headline = smoothed_headline(net.history, net.spec, lens, smoothed, output)
    names = names if names is not None else panel_series((), net.spec, lens).names
    keys = [(f"━{name}", hex_colour(LAYER_COLOURS[layer % len(LAYER_COLOURS)])) for layer, name in enumerate(names)]
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
        self.look: Look = (BIAS, 0, False)
        self.names: tuple[str, ...] | None = None

    def show(self, net: NetView, look: Look = (BIAS, 0, False), names: tuple[str, ...] | None = None) -> None:
        self.net, self.look, self.names = net, look, names
        self.refresh()

    def render(self) -> RenderResult:
        if self.net is None:
            return Content("")
        return Content("\n").join(caption_lines(self.net, max(1, self.size.width), self.look, self.names))

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
    names: tuple[str, ...] = ()     # labels other than 1e-3 …: a fraction lens's 0% … 100%

    @property
    def labels(self) -> list[str]:
        return list(self.names) if self.names else [f"1e{round(tick)}" for tick in self.ticks]


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


def few_lines(data: Series, spec) -> Series:
    """A deep model's chart: the rows its headline compares and the last (its output), not a
    line per layer (the panels' heatmap shows every layer)."""
    if data.rows <= MAX_LINES:
        return data
    last_hidden = max(0, min(data.rows, len(spec.hidden_layers)) - 1)
    rows = sorted({0, last_hidden, data.rows - 1})
    return grouped(data, [(data.names[row], (row,)) for row in rows])


class SpeedPlot(PlotextPlot):
    """One net: a line of log10 values per row of its series (s_l per hidden layer, or the lens
    shown; plotted as log10 values: plotext 5 re-applies yscale("log") on every render), on the
    decades all charts share and the steps of the longest run. The y axis is laid out for the size
    the chart is drawn at."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.scale: SpeedScale | None = None

    def show(self, net: NetView, scale: SpeedScale, last_step: int, data: Series | None = None) -> None:
        plt = self.plt
        plt.clear_data()
        history = net.history
        data = panel_series(history, net.spec, BIAS) if data is None else data
        x = [record.step for record in history]
        band = LENSES[data.lens].band
        if band is not None:            # the update ratio's healthy band: 1e-4 … 1e-2 around 1e-3
            for edge in (*band, HEALTHY_UPDATE):
                plt.hline(math.log10(edge), color=BAND_COLOUR if edge in band else HEALTHY_COLOUR)
        bands = [] if data.low is None or data.high is None else [data.low, data.high]
        for layer in range(data.rows):    # smoothed: the raw min–max band first, faint, behind every line
            for band in bands:
                self._line(x, [None if math.isnan(v) else float(v) for v in band[:, layer]], scale, BAND_COLOUR)
        for layer in range(data.rows):
            self._line(x, [data.value(t, layer) for t in range(len(x))], scale,
                       LAYER_COLOURS[layer % len(LAYER_COLOURS)])
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
        scale = self.scale
        axis = log_axis(scale.lo, scale.hi, height - FRAME_ROWS)
        if axis is not None and scale.percent:   # 0 … 100 % drawn linearly across the scale's decades
            axis = replace(axis, names=tuple(f"{100 * (tick - scale.lo) / (scale.hi - scale.lo):g}%"
                                             for tick in axis.ticks))
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

    def _line(self, x: list[int], values: list[float | None], scale: SpeedScale, colour) -> None:
        """One line of log10 values (a fraction lens: 0 … 1 spread over the scale's decades)."""
        if scale.percent:
            values = [None if v is None or not math.isfinite(v) else 10 ** (scale.lo + v * (scale.hi - scale.lo))
                      for v in values]
        points = [(step, math.log10(v)) for step, v in zip(x, values) if v is not None and ZERO_FLOOR <= v < math.inf]
        if points:
            self.plt.plot([p[0] for p in points], [p[1] for p in points], marker="braille", color=colour)


class PlotScreen(Screen[None]):
    """Every net's chart in a grid, redrawn from the newest BoardView that `view` gives a few
    times a second, when `may_redraw(shown, newest)` allows (plotext charts are not cheap)."""

    BINDINGS = [Binding("escape,p", "close", "panels", tooltip="back to the panels")]

    def __init__(self, view: Callable[[], BoardView],
                 may_redraw: Callable[[BoardView, BoardView], bool] = lambda shown, view: True,
                 look: Callable[[], Look] = lambda: (BIAS, 0, False), **options) -> None:
        super().__init__(**options)
        self.view = view
        self.may_redraw = may_redraw
        self.look = look
        self._looked: Look | None = None
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
        view, look = self.view(), self.look()
        if look != self._looked:      # another lens or smoothing: a new range, drawn at once
            self._looked, self._shown, self._scale = look, None, None
        if self._shown is not None and (view.version == self._shown.version
                                        or not self.may_redraw(self._shown, view)):
            return
        self._shown = view
        lens, smoothed, _ = look
        scale = shared_scale(view.nets, log=True, previous=self._scale, lens=lens)
        if scale.percent:             # drawn on the log axis as 1e-2 … 1e0, labelled 0 … 100 %
            scale = SpeedScale(-2.0, 0.0, True, True)
        self._scale = scale
        last_step = max((run_length(net) for net in view.nets), default=0)
        for net in view.nets:
            shown = shown_lens(net.spec, net.history, lens)     # a bias-free model: its own lens
            data = few_lines(panel_series(net.history, net.spec, shown, smoothed=smoothed), net.spec)
            self.query_one(f"#caption-{net.index}", PlotCaption).show(net, (shown, *look[1:]), data.names)
            self.query_one(f"#plot-{net.index}", SpeedPlot).show(net, scale, last_step, data)

    def action_close(self) -> None:
        self.dismiss()


def run_length(net: NetView) -> int:
    """The steps a net's run takes (the steps so far while that is not known yet)."""
    history = net.history
    return run_steps(history, net.total_epochs) or (history[-1].step if history else 0)
