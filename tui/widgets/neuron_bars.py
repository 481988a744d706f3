"""The book's six-neuron figure: signed mean ∂C/∂b_j of the first six neurons of each hidden layer.

Rows are neurons, columns hidden layers named as the panel's rows are; a bar grows left of the
axis for a negative gradient, right for a positive one, all scaled to the largest |∂C/∂b_j|
shown. Where the columns do not fit with their names whole, the first layers and the last are
shown and the header says how many.
"""

from __future__ import annotations

import math
from itertools import groupby

from textual.content import Content
from textual.reactive import reactive
from textual.style import Style

from vgrad.core.record.step import NEURONS_SHOWN
from vgrad.core.view.summary import number
from vgrad.tui.widgets.styled import StyledWidget

ROW_LABEL = 2
COLUMN_GAP = 2
HEADER_ROWS = 2


def largest(neurons: tuple[tuple[float, ...], ...]) -> float:
    """max |∂C/∂b_j| over the finite values shown (nan when there are none)."""
    values = [abs(v) for layer in neurons for v in layer if math.isfinite(v)]
    return max(values) if values else math.nan


def bar(value: float, scale: float, half: int) -> tuple[str, str]:
    """The (left, right) halves of one signed bar, `half` cells each, in half-cell steps."""
    if not math.isfinite(value):
        return "nan".rjust(half)[-half:], ""
    steps = round(abs(value) / scale * 2 * half) if scale > 0 else 0
    if steps == 0:
        cells = "·" if value != 0 else ""
    else:
        cells = "█" * (steps // 2)
        if steps % 2:
            cells = cells + "▌" if value > 0 else "▐" + cells
    if value < 0:
        return cells.rjust(half), ""
    return "", cells


Run = tuple[str, str]  # (text, component class)


def scale_text(neurons: tuple[tuple[float, ...], ...], scale: float) -> str:
    """What a full bar stands for; before the first step (or after a restart) there is nothing;
    a file whose writer gave no neuron values says so."""
    if not neurons:
        return "(no step yet)"
    if not any(neurons):
        return "not recorded"
    if not math.isfinite(scale):
        return "(no finite value)"
    return "all 0" if scale == 0 else f"full bar {number(scale)}"


def shown_layers(names: tuple[str, ...], width: int) -> tuple[int, ...]:
    """The layers whose columns fit in `width` with their names whole: all, or the first ones and the last."""
    column = max(5, 3 + max((len(name) for name in names), default=2))
    fit = max(1, (width - ROW_LABEL) // column)
    if fit >= len(names):
        return tuple(range(len(names)))
    return (*range(fit - 1), len(names) - 1) if fit > 1 else (0,)


def drawing(neurons: tuple[tuple[float, ...], ...], hidden: int, width: int,
            names: tuple[str, ...] = ()) -> tuple[tuple[Run, ...], ...]:
    """The table as lines of runs, styled by component class ("" for the widget's own colour):
    a header with the scale, the layer names, then one row per neuron."""
    if neurons and not any(neurons):       # the writer gave none: a line that says so, no empty grid
        return ((("∂C/∂b_j  not recorded", ""),),)
    names = names or tuple(f"h{layer + 1}" for layer in range(hidden))
    layers = shown_layers(names, width)
    scale = largest(tuple(neurons[layer] for layer in layers if layer < len(neurons)))
    column = (width - ROW_LABEL) // max(1, len(layers))
    gap = " " * (COLUMN_GAP if column >= 7 else 1)
    half = max(1, (column - len(gap) - 1) // 2)
    some = f"  ({len(layers)} of {hidden} layers)" if len(layers) < hidden else ""
    lines = [((f"∂C/∂b_j  {scale_text(neurons, scale)}{some}", ""),),
             ((" " * ROW_LABEL + "".join(gap + names[layer].center(2 * half + 1)
                                         for layer in layers), ""),)]
    widest = max((len(layer) for layer in neurons), default=NEURONS_SHOWN)
    for j in range(NEURONS_SHOWN):
        runs: list[Run] = [(f"{j + 1}".rjust(ROW_LABEL) if j < widest else " " * ROW_LABEL, "")]
        for layer in layers:
            value = neurons[layer][j] if layer < len(neurons) and j < len(neurons[layer]) else None
            runs.append((gap, ""))
            if value is None:
                runs.append((" " * (2 * half + 1), ""))
                continue
            left, right = bar(value, scale, half)
            negative = "neuron-bars--negative" if math.isfinite(value) else "neuron-bars--bad"
            runs.append((left.rjust(half), negative if left.strip() else ""))
            runs.append(("│", ""))
            runs.append((right.ljust(half), "neuron-bars--positive" if right.strip() else ""))
        lines.append(tuple(runs))
    return tuple(lines)


class NeuronBars(StyledWidget):
    """∂C/∂b_j for j = 1..6 in every hidden layer, as signed horizontal bars."""

    DEFAULT_CSS = """
    NeuronBars {
        color: $text-muted;
    }
    NeuronBars > .neuron-bars--positive {
        color: $primary-lighten-2;
    }
    NeuronBars > .neuron-bars--negative {
        color: $warning;
    }
    NeuronBars > .neuron-bars--bad {
        color: $error;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES = {"neuron-bars--positive", "neuron-bars--negative", "neuron-bars--bad"}

    neurons: reactive[tuple[tuple[float, ...], ...]] = reactive((), init=False, repaint=False)
    lines: reactive[tuple[tuple[Run, ...], ...]] = reactive(())

    def __init__(self, hidden: int, names: tuple[str, ...] = (), **options) -> None:
        super().__init__(**options)
        self.hidden = hidden
        self.names = names

    def watch_neurons(self) -> None:
        self.lines = drawing(self.neurons, self.hidden, self.size.width, self.names)

    def on_resize(self) -> None:
        self.watch_neurons()

    def render(self) -> Content:
        styles = {name: self.component_style(name) for name in self.COMPONENT_CLASSES}
        parts: list[tuple[str, Style] | str] = []
        for line_number, runs in enumerate(self.lines):
            if line_number:
                parts.append("\n")
            for component, group in groupby(runs, key=lambda run: run[1]):
                text = "".join(part for part, _ in group)
                parts.append((text, styles[component]) if component else text)
        return Content.assemble(*parts)
