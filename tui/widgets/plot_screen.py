"""The `p` view: the book's figure, s_l against training steps on a log axis, one chart per net,
the x axis spanning the whole run so a chart fills as its net trains. Each chart's caption
holds its spec, state, headline and the legend, so nothing covers the lines."""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
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


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


Look = tuple[str, int, bool]   # the lens, the moving average's N (0: raw), the output in the headline


def caption(net: NetView, look: Look = (BIAS, 0, False), names: tuple[str, ...] | None = None) -> Content:
    """`784-30-30-30-30-10  ✔ done  h1:h4 = 1:124  ━h1 ━h2 ━h3 ━h4`, each ━ in its line's colour,
    the layers named as the panels name them; the lens named when it is not s_l."""
    lens, smoothed, output = look
    parts: list = [(net.spec.label, "bold"), f"  {state_text(net)}"]
    if lens != BIAS:
        parts.append(f"  {LENSES[lens].title}")
    line = smoothed_headline(net.history, net.spec, lens, smoothed, output)
    if line:
        parts.append(f"  {line}")
    parts.append(" ")
    for layer, name in enumerate(names if names is not None else panel_series((), net.spec, lens).names):
        colour = LAYER_COLOURS[layer % len(LAYER_COLOURS)]
        parts.extend([" ", (f"━{name}", hex_colour(colour))])
    return Content.assemble(*parts)


def decade_ticks(scale: SpeedScale) -> tuple[list[float], list[str]]:
    """Whole powers of ten across the scale, labelled 1e-3 and so on (a fraction lens: 0 … 100 %)."""
    if scale.percent:
        return [-2.0, -1.0, 0.0], ["0%", "50%", "100%"]
    first, last = math.floor(scale.lo), math.ceil(scale.hi)
    ticks = list(range(first, last + 1))
    return [float(t) for t in ticks], [f"1e{t}" for t in ticks]


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
    """One net: a line of log10 s_l per hidden layer (plotted as log10 values: plotext 5
    re-applies yscale("log") on every render), on the y range all charts share."""

    def show(self, net: NetView, scale: SpeedScale, data: Series | None = None) -> None:
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
        ticks, labels = decade_ticks(scale)
        plt.ylim(ticks[0] - 0.25, ticks[-1])
        plt.yticks(ticks, labels)
        last = run_steps(history, net.total_epochs) or (x[-1] if x else 0)
        plt.xlim(0, max(1, last))
        plt.xticks(step_ticks(last))
        self.refresh()


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
                    yield Static(id=f"caption-{net.index}", classes="plot-caption")
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
        for net in view.nets:
            shown = shown_lens(net.spec, net.history, lens)     # a bias-free model: its own lens
            data = few_lines(panel_series(net.history, net.spec, shown, smoothed=smoothed), net.spec)
            self.query_one(f"#caption-{net.index}", Static).update(caption(net, (shown, *look[1:]), data.names))
            self.query_one(f"#plot-{net.index}", SpeedPlot).show(net, scale, data)

    def action_close(self) -> None:
        self.dismiss()
