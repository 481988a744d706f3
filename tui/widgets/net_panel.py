"""One net's panel, titled by its whole spec: a LayerRow per hidden layer, or for a deep model a
layer × time heatmap, through the lens the app chose; the neuron bars and the status; the
headline (first hidden layer against the last), live, on its bottom border. Every view in the
panel names a layer the same way (core.view.names)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.content import Content

from vgrad.core.record.step import NEURONS_SHOWN
from vgrad.core.run.board import NetView
from vgrad.core.status import NetState
from vgrad.core.subject import Subject
from vgrad.core.view.explosion import explosion_note
from vgrad.core.view.lens import BIAS, LENSES, shown_lens
from vgrad.core.view.names import fold_groups, short_names
from vgrad.core.view.scale import SpeedScale
from vgrad.core.view.series import HEATMAP_DEPTH, Series, panel_series
from vgrad.core.view.summary import smoothed_headline, stall_note
from vgrad.tui.widgets.heatmap import Heatmap
from vgrad.tui.widgets.layer_row import LayerRow, name_width
from vgrad.tui.widgets.log_sparkline import run_steps
from vgrad.tui.widgets.neuron_bars import HEADER_ROWS, NeuronBars
from vgrad.tui.widgets.status_line import StatusLine

BORDER_ROWS = 2
NEURON_ROWS = HEADER_ROWS + NEURONS_SHOWN
PANEL_FRAME = 4           # border and padding, in columns
BUILT_IN_STATUS, WATCHED_STATUS = 52, 64   # columns a running net's status line takes
HEAT_FRAME = 2            # the heatmap's legend and time axis
MAX_SPARK_ROWS = 64       # more rows than this stay a heatmap: a widget per row would take seconds to lay out


class NetPanel(Vertical):
    """Everything about one net; the app feeds it a NetView, the shared SpeedScale and how to look."""

    DEFAULT_CSS = """
    NetPanel {
        border: round $primary;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text;
        border-subtitle-style: bold;
    }
    NetPanel.-done {
        border: round $success;
    }
    NetPanel.-problem {
        border: round $error;
    }
    NetPanel.-heatmap .panel-body, NetPanel.-rows Heatmap {
        display: none;
    }
    """

    def __init__(self, spec: Subject, *, batch_size: int | None = None, **options) -> None:
        super().__init__(**options)
        self.spec = spec
        self.batch_size = batch_size          # sgd: to count the training images in a stall note
        self.lens = BIAS
        self.shown = BIAS                 # the lens drawn: self.lens, or the net's own if it never measured that
        self.fold = False
        self.smoothed = 0
        self.include_output = False
        self.heatmap_mode = self.deep(spec)
        self.names = short_names(spec.layer_names)
        self.rows = [] if self.heatmap_mode else self._make_rows(self.names)   # rows for a deep model: when asked
        self.neuron_bars = NeuronBars(spec.hidden, self.names)
        if not spec.hidden:           # a file not read yet has no layers to draw (an inline style beats the CSS)
            self.neuron_bars.display = False
        self.heatmap = Heatmap(name_width(self.names) + 1)
        self.status = StatusLine()
        self.spec_title = self.title_of(spec)
        self.border_title = Content(self.spec_title)   # Content: a name's `[bold]` is text, never markup
        self.border_subtitle = ""                                                      # the headline, once measured
        self._state = ""
        self.bias_free = False                # a watched model none of whose layers has a bias
        self.set_class(self.heatmap_mode, "-heatmap")
        self.set_class(not self.heatmap_mode, "-rows")

    @staticmethod
    def deep(spec: Subject) -> bool:
        return spec.hidden > HEATMAP_DEPTH

    @staticmethod
    def title_of(spec: Subject) -> str:
        """The whole spec; a watched file not read yet is waited for, never "0 layers"."""
        if spec.hidden == 0:
            return f"waiting for {spec.label}"
        return spec.title

    @staticmethod
    def rows_needed(spec: Subject, *, wide: bool, neurons: bool, spark_rows: int = 1,
                    heat_rows: int = 0, width: int = 0) -> int:
        """Terminal rows the panel takes in `width` columns (0: wide enough): a wide panel puts the
        neuron bars beside the layer rows; with `heat_rows` > 0 the panel is a heatmap of at most
        that many lines. A watched model's status (step, loss, accuracy, steps/s, state) is longer."""
        status_width = WATCHED_STATUS if spec.cost_name == "loss" else BUILT_IN_STATUS
        status = 1 if wide and (not width or width - PANEL_FRAME >= status_width) else 2
        if heat_rows:
            return BORDER_ROWS + HEAT_FRAME + min(spec.hidden, max(3, heat_rows)) + status
        layers = spec.hidden * spark_rows + (spec.hidden - 1 if spark_rows > 1 else 0)
        if not neurons:
            body = layers
        elif wide:
            body = max(layers, NEURON_ROWS)
        else:
            body = layers + 1 + NEURON_ROWS
        return BORDER_ROWS + body + status

    def _make_rows(self, names: tuple[str, ...]) -> list[LayerRow]:
        width = name_width(names)
        return [LayerRow(layer, name, width) for layer, name in enumerate(names)]

    def compose(self) -> ComposeResult:
        with Container(classes="panel-body"):
            with Vertical(classes="layer-rows"):
                yield from ([] if self.heatmap_mode else self.rows)
            yield self.neuron_bars
        yield self.heatmap
        yield self.status

    def look(self, *, lens: str, fold: bool, smoothed: int, heatmap: bool | None = None,
             include_output: bool = False) -> None:
        """How to look at the net: the lens, folded blocks, smoothing over N records, heatmap or rows."""
        self.lens, self.fold, self.smoothed, self.include_output = lens, fold, smoothed, include_output
        self.shown = lens
        if heatmap is not None and heatmap != self.heatmap_mode:
            self.heatmap_mode = heatmap
            if heatmap:
                for row in self.rows:
                    if row.is_attached:
                        row.remove()
            self.set_class(heatmap, "-heatmap")
            self.set_class(not heatmap, "-rows")
        self._title()

    def _title(self) -> None:
        """The spec, the lens when it is not s_l (and why, for a model without biases), folding."""
        parts = [self.spec_title]
        if self.shown != BIAS:
            parts.append(LENSES[self.shown].title + (" (no bias gradients)" if self.bias_free else ""))
        if self.fold and self.foldable:
            parts.append("blocks folded")
        self.border_title = Content(" · ".join(parts))

    def series(self, net: NetView) -> Series:
        return panel_series(net.history, self.spec, self.shown, fold=self.fold, smoothed=self.smoothed)

    def show(self, net: NetView, scale: SpeedScale, data: Series | None = None) -> None:
        shown = shown_lens(self.spec, net.history, self.lens)
        bias_free = net.latest is not None and all(value is None for value in net.latest.speed)
        if bias_free != self.bias_free or shown != self.shown:
            self.bias_free, self.shown = bias_free, shown
            self._title()
        data = self.series(net) if data is None else data
        steps = run_steps(net.history, net.total_epochs)
        if self.heatmap_mode:
            by_epoch = bool(net.history) and all(record.step == record.epoch for record in net.history)
            self.heatmap.show(data, steps, scale, "epoch" if by_epoch else "step")
        else:
            self._sync_rows(data.names)
            for row in self.rows:
                row.show(data, steps, scale)
            self.neuron_bars.neurons = () if net.latest is None else net.latest.neurons
        self.status.show(net, stall_note(net.history, self.spec.hidden, self.batch_size, self.names)
                         or explosion_note(net.history, self.names))
        self.border_subtitle = Content(smoothed_headline(net.history, self.spec, self.shown, self.smoothed,
                                                         self.include_output))
        if net.state != self._state:
            self._state = net.state
            self.set_class(net.state.problem, "-problem")
            self.set_class(net.state is NetState.DONE, "-done")

    def _sync_rows(self, names: tuple[str, ...]) -> None:
        """Rows for `names` (a lens with other rows, or folded blocks): rebuilt only when they change."""
        mounted = self.is_attached and bool(self.rows) and self.rows[0].is_attached
        if not self.is_attached or (names == tuple(row.name_text for row in self.rows) and mounted):
            return
        holders = self.query(".layer-rows")
        if not holders:          # mounted just now and not composed yet: the next draw fills it
            return
        holder = holders.first()
        for row in self.rows:
            if row.is_attached:
                row.remove()
        self.rows = self._make_rows(names)
        holder.mount_all(self.rows)

    @property
    def too_deep_for_rows(self) -> bool:
        rows = len(fold_groups(self.spec.layer_names)) if self.fold else self.spec.hidden
        return rows > MAX_SPARK_ROWS

    @property
    def foldable(self) -> bool:
        return len(fold_groups(self.spec.layer_names)) < self.spec.hidden
