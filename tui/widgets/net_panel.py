"""One net's panel, titled by its whole spec: a LayerRow per hidden layer (s_1 … s_k), the
neuron bars and the status; the headline h1:hk = 1:N, live, on its bottom border."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.content import Content

from vgrad.core.record.step import NEURONS_SHOWN
from vgrad.core.run.board import NetView
from vgrad.core.status import NetState
from vgrad.core.subject import Subject
from vgrad.core.view.scale import SpeedScale
from vgrad.core.view.summary import headline_text, stall_note
from vgrad.tui.widgets.layer_row import LayerRow, name_width
from vgrad.tui.widgets.log_sparkline import run_steps
from vgrad.tui.widgets.neuron_bars import HEADER_ROWS, NeuronBars
from vgrad.tui.widgets.status_line import StatusLine

BORDER_ROWS = 2
NEURON_ROWS = HEADER_ROWS + NEURONS_SHOWN


class NetPanel(Vertical):
    """Everything about one net; the app feeds it a NetView and the shared SpeedScale."""

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
    """

    def __init__(self, spec: Subject, *, batch_size: int | None = None, **options) -> None:
        super().__init__(**options)
        self.spec = spec
        self.batch_size = batch_size          # sgd: to count the training images in a stall note
        names = spec.layer_names
        width = name_width(names)
        self.rows = [LayerRow(layer, name, width) for layer, name in enumerate(names)]
        self.neuron_bars = NeuronBars(spec.hidden)
        self.status = StatusLine()
        self.spec_title = spec.title                                                   # the whole spec
        self.border_title = Content(self.spec_title)   # Content: a name's `[bold]` is text, never markup
        self.border_subtitle = ""                                                      # the headline, once measured
        self._state = ""

    @staticmethod
    def rows_needed(spec: Subject, *, wide: bool, neurons: bool, spark_rows: int = 1) -> int:
        """Terminal rows the panel takes: a wide panel puts the neuron bars beside the layer rows."""
        layers = spec.hidden * spark_rows + (spec.hidden - 1 if spark_rows > 1 else 0)
        if not neurons:
            body = layers
        elif wide:
            body = max(layers, NEURON_ROWS)
        else:
            body = layers + 1 + NEURON_ROWS
        status = 1 if wide else 2
        return BORDER_ROWS + body + status

    def compose(self) -> ComposeResult:
        with Container(classes="panel-body"):
            with Vertical(classes="layer-rows"):
                yield from self.rows
            yield self.neuron_bars
        yield self.status

    def show_lens(self, name: str) -> None:
        """Name the lens in the title when it is not the book's s_l ("" for s_l)."""
        self.border_title = Content(f"{self.spec_title} · {name}" if name else self.spec_title)

    def show(self, net: NetView, scale: SpeedScale) -> None:
        steps = run_steps(net.history, net.total_epochs)
        for row in self.rows:
            row.show(net.history, steps, scale)
        self.neuron_bars.neurons = () if net.latest is None else net.latest.neurons
        self.status.show(net, stall_note(net.history, self.spec.hidden, self.batch_size))
        self.border_subtitle = Content(headline_text(net.latest, names=self.spec.layer_names))
        if net.state != self._state:
            self._state = net.state
            self.set_class(net.state.problem, "-problem")
            self.set_class(net.state is NetState.DONE, "-done")
