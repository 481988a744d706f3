"""Widgets of the chain explorer: one per concept, each fed a frozen state from vgrad.core.lab.chain."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup, Vertical
from textual.widget import Widget
from textual.widgets import Label, Static

from vgrad.core.lab.chain import GROWTH_MIN_WEIGHT, ChainState, Kind, NeuronState
from vgrad.core.view.summary import number

KINDS: tuple[Kind, ...] = ("vanishing", "neutral", "exploding")
KIND_COLOURS: dict[Kind, str] = {"vanishing": "#5fafff", "neutral": "#d7d75f", "exploding": "#ff5f5f"}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(j: int) -> str:
    """j written as a subscript: 12 -> "₁₂"."""
    return str(j).translate(SUBSCRIPTS)


def parameter(value: float) -> str:
    """A weight or bias in the one format of every number here: 3 significant digits."""
    return number(value)


def reading(value: float, room: int = 9) -> str:
    """A value in at most `room` characters: 3 significant digits as everywhere in vgrad (100,
    -50.0, 0.250, 1.56e+04), fewer (rounded, never cut) where that would not fit: 0.00964 reads
    0.0096 in 6 and 0.01 in 4."""
    texts = [number(value)] + [f"{value:.{digits}g}" for digits in (2, 1)]
    return next((text for text in texts if len(text) <= room), texts[-1])


def ratio(value: float) -> str:
    """A gradient ratio, in the same format as every other number."""
    return number(value)


def kind_css(selector: str, rules: str) -> str:
    """CSS giving `selector` (KIND standing for -vanishing, -neutral, -exploding) the `rules` of
    each kind, with {colour} from KIND_COLOURS: each widget's colours by kind, from one table."""
    return "\n".join(f"{selector.replace('KIND', '-' + kind)} {{ {rules.format(colour=colour)} }}"
                     for kind, colour in KIND_COLOURS.items())


def set_kind(widget: Widget, kind: Kind) -> None:
    """Put exactly one of the classes -vanishing, -neutral, -exploding on the widget."""
    for name in KINDS:
        widget.set_class(name == kind, f"-{name}")


class Reading(HorizontalGroup):
    """One "name  value" row of a neuron card."""

    DEFAULT_CSS = """
    Reading .name {
        color: $text-muted;
        margin-right: 1;
    }
    """ + kind_css("Reading.KIND .value", "color: {colour}; text-style: bold;")

    def __init__(self, name: str, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.reading_name = name
        self._value: float | str = ""

    def compose(self) -> ComposeResult:
        yield Label(self.reading_name, classes="name")
        yield Label("", classes="value")

    def show(self, value: float | str) -> None:
        """Display a text as it is, a computed number rounded to the room beside the name."""
        self._value = value
        room = max(1, self.size.width - len(self.reading_name) - 1) if self.size.width else 9
        text = value if isinstance(value, str) else reading(value, room)
        self.query_one(".value", Label).update(text)

    def on_resize(self) -> None:
        self.show(self._value)


def card_label(neuron: NeuronState, last: bool) -> str:
    """What a card's ∂C/∂b ÷ ∂C/∂b_n says: vanishing, neutral or exploding; the last neuron is the reference."""
    return "the reference" if last else f"∂C/∂b {neuron.gradient_kind}"


class NeuronCard(Vertical):
    """Neuron j: w_j, b_j, z_j, sigma'(z_j), the factor w_j sigma'(z_j), dC/db_j / dC/db_n."""

    DEFAULT_CSS = """
    NeuronCard {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
    }
    NeuronCard.-selected {
        border: heavy $accent;
        border-title-color: $accent;
        border-title-style: bold;
        background: $boost;
    }
    """ + kind_css("NeuronCard.KIND", "border-subtitle-color: {colour};")

    def __init__(self, j: int) -> None:
        super().__init__(id=f"neuron-{j}")
        self.j = j
        self.border_title = f"neuron {j}"

    def compose(self) -> ComposeResult:
        yield Reading("w", classes="weight")
        yield Reading("b", classes="bias")
        yield Reading("z", classes="z")
        yield Reading("σ'(z)", classes="sigma-prime")
        yield Reading("wσ'(z)", classes="factor")
        yield Reading("∂C/∂b", classes="gradient")

    def show(self, neuron: NeuronState, selected: bool, last: bool = False) -> None:
        """Display the neuron's state; mark it if it is the selected one. The card is labelled
        by its ∂C/∂b ÷ ∂C/∂b_n, the number it ends on (its own factor wσ'(z) acts on the
        neurons before it, and has its own colour)."""
        self.query_one(".weight", Reading).show(neuron.weight)
        self.query_one(".bias", Reading).show(neuron.bias)
        self.query_one(".z", Reading).show(neuron.z)
        self.query_one(".sigma-prime", Reading).show(neuron.sigma_prime)
        factor = self.query_one(".factor", Reading)
        factor.show(neuron.factor)
        set_kind(factor, neuron.kind)
        gradient = self.query_one(".gradient", Reading)
        gradient.show(neuron.relative_gradient)
        set_kind(gradient, neuron.gradient_kind)
        self.border_title = f"▶ neuron {neuron.j}" if selected else f"neuron {neuron.j}"
        self.border_subtitle = card_label(neuron, last)
        self.set_class(selected, "-selected")
        set_kind(self, neuron.gradient_kind)


class ChainDiagram(Static):
    """The chain as a line: x -> neuron 1 -> ... -> neuron n -> C."""

    DEFAULT_CSS = """
    ChainDiagram {
        color: $text-muted;
    }
    """

    def show(self, state: ChainState) -> None:
        """Display the chain's input and its neurons in order."""
        steps = " → ".join(f"neuron {neuron.j}" for neuron in state.neurons)
        self.update(f"x = {parameter(state.chain.x)} → {steps} → C")


class GradientRatio(Static):
    """dC/db_1 / dC/db_n: how much slower (or faster) the first neuron learns than the last."""

    DEFAULT_CSS = """
    GradientRatio {
        text-style: bold;
    }
    """ + kind_css("GradientRatio.KIND", "color: {colour};")

    def show(self, state: ChainState) -> None:
        """Display the ratio, coloured by whether it vanishes or explodes."""
        n = subscript(state.chain.neurons)
        self.update(
            f"∂C/∂b₁ / ∂C/∂b{n} = {ratio(state.first_over_last)}  {state.kind}"
            f"  (cards: ∂C/∂b ÷ ∂C/∂b{n})"
        )
        set_kind(self, state.kind)


class ProductFormula(Static):
    """The book's dC/db_1 = sigma'(z_1) w_2 sigma'(z_2) ... w_n sigma'(z_n) dC/da_n, with its values below."""

    DEFAULT_CSS = """
    ProductFormula {
        color: $text-muted;
    }
    """

    def show(self, state: ChainState) -> None:
        """Display the product, each factor's value under its symbol."""
        first, *rest = state.neurons
        n = subscript(state.chain.neurons)
        symbols = ["σ'(z₁)"] + [f"w{subscript(m.j)}σ'(z{subscript(m.j)})" for m in rest]
        values = [reading(first.sigma_prime)] + [reading(m.factor) for m in rest]
        widths = [max(len(symbol), len(value)) for symbol, value in zip(symbols, values)]
        top = " · ".join(symbol.center(width) for symbol, width in zip(symbols, widths))
        bottom = " · ".join(value.center(width) for value, width in zip(values, widths))
        self.update(f"∂C/∂b₁ = {top} · ∂C/∂a{n}\n       = {bottom} · ∂C/∂a{n}")


class GrowthCondition(Vertical):
    """Where |w sigma'(w a + b)| >= 1 for the selected neuron, and the widest such range over |w|."""

    DEFAULT_CSS = """
    GrowthCondition {
        border: round $panel-lighten-2;
        border-title-color: $text;
    }
    """ + kind_css("GrowthCondition #growth-input.KIND", "color: {colour};")

    def compose(self) -> ComposeResult:
        yield Static(id="growth-range")
        yield Static(id="growth-input")
        yield Static(id="growth-widest")

    def on_mount(self) -> None:
        self.border_title = "growth condition |w σ'(wa+b)| ≥ 1"

    def show(
        self,
        neuron: NeuronState,
        growth_range: tuple[float, float] | None,
        widest: tuple[float, float],
    ) -> None:
        """Display the growth range of the neuron's (w, b), where its input sits, and the widest range."""
        j = neuron.j
        w_j, b_j = f"w{subscript(j)}", f"b{subscript(j)}"
        where = f"neuron {j}, {w_j} = {parameter(neuron.weight)}, {b_j} = {parameter(neuron.bias)}"
        if growth_range is not None:
            low, high = growth_range
            verdict = f"a ∈ [{low:.3f}, {high:.3f}]"
        elif abs(neuron.weight) < GROWTH_MIN_WEIGHT:
            verdict = f"none: |w| < {GROWTH_MIN_WEIGHT:g}"
        else:
            verdict = "none for a in [0, 1]"
        self.query_one("#growth-range", Static).update(f"{where}: {verdict}")

        side = "inside" if neuron.grows else "outside"
        relation = "≥" if neuron.grows else "<"
        text_input = (
            f"its input a{subscript(j - 1)} = {reading(neuron.input_activation)} is {side}: "
            f"|wσ'(z)| = {reading(abs(neuron.factor))} {relation} 1"
        )
        input_line = self.query_one("#growth-input", Static)
        input_line.update(text_input)
        set_kind(input_line, neuron.kind)

        w_star, width = widest
        self.query_one("#growth-widest", Static).update(
            f"widest ≈ {width:.2f} at |w| ≈ {w_star:.1f} (best b; computed)"
        )


class ChainHint(Static):
    """Why the factors shrink, and what to try."""

    DEFAULT_CSS = """
    ChainHint {
        color: $text-muted;
    }
    """

    TEXT = "σ'(z) ≤ 1/4, so wσ'(z) < 1 while |w| < 4. Try e, or w ≈ 7 (↑) and b (+/-)."

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self.TEXT, id=id)
