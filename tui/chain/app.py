"""The chain explorer (`vgrad-tui chain`): edit w_j, b_j of the book's single-neuron chain
and watch dC/db_1 vanish or explode. Every number comes from vgrad.core.lab.chain."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import var
from textual.widgets import Footer, Header

from vgrad.core.lab.chain import (
    DEFAULT_NEURONS,
    Chain,
    adjusted,
    default_chain,
    exploding_chain,
    forward,
    growth_range,
    widest_growth_range,
)
from vgrad.tui.chain.widgets import (
    ChainDiagram,
    ChainHint,
    GradientRatio,
    GrowthCondition,
    NeuronCard,
    ProductFormula,
)
from vgrad.tui.widgets.help_screen import HelpScreen

CHAIN_ABOUT = (
    "The book's chain of single sigmoid neurons, x → a_1 → … → a_n → C, with z_j = w_j a_{j-1} + b_j. "
    "Backpropagation gives ∂C/∂b_1 = σ'(z_1) · w_2 σ'(z_2) · … · w_n σ'(z_n) · ∂C/∂a_n: one factor "
    "w_j σ'(z_j) per neuron after the first. σ' is at most 1/4, so with |w_j| < 1 each factor shrinks the "
    "gradient at least four times (it vanishes); large w_j with b_j = −w_j a_{j-1} keep z_j = 0 and make "
    "each factor w_j/4 (it explodes, e). |w σ'(w a + b)| ≥ 1 needs |w| ≥ 4, and only on a narrow range "
    "of a: the bottom line gives that range for the selected neuron."
)
WEIGHT_STEP = 0.5
BIAS_STEP = 0.5
CARDS_PER_ROW = 4

NEURON_KEYS = Binding.Group("neuron")
WEIGHT_KEYS = Binding.Group("w")
BIAS_KEYS = Binding.Group("b")


class ChainApp(App[None]):
    """The single-neuron chain x -> neuron 1 -> ... -> neuron n -> C, one card per neuron."""

    TITLE = "vgrad chain"
    SUB_TITLE = "why early neurons learn slowly (NNDL ch. 5)"
    CSS_PATH = "chain.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("left", "select(-1)", "previous neuron", group=NEURON_KEYS),
        Binding("right", "select(1)", "next neuron", group=NEURON_KEYS),
        Binding("up,W", "weight(1)", "w up", group=WEIGHT_KEYS),
        Binding("down,w", "weight(-1)", "w down", group=WEIGHT_KEYS),
        Binding("plus,equals_sign,shift+up,B", "bias(1)", "b up", group=BIAS_KEYS),
        Binding("minus,shift+down,b", "bias(-1)", "b down", group=BIAS_KEYS),
        Binding("e", "exploding", "book's exploding example"),
        Binding("r", "reset", "reset"),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
    ]

    chain: var[Chain] = var(default_chain, init=False)
    selected: var[int] = var(0, init=False)

    def __init__(self, neurons: int = DEFAULT_NEURONS) -> None:
        super().__init__()
        self.neurons = neurons
        self.set_reactive(ChainApp.chain, default_chain(neurons))

    def compose(self) -> ComposeResult:
        yield Header()
        yield ChainDiagram(id="diagram")
        with Horizontal(id="cards", classes="-wrapped" if self.neurons > CARDS_PER_ROW else ""):
            for j in range(1, self.neurons + 1):
                yield NeuronCard(j)
        yield GradientRatio(id="ratio")
        yield ProductFormula(id="product")
        yield GrowthCondition(id="growth")
        yield ChainHint(id="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.show_state()

    def watch_chain(self) -> None:
        self.show_state()

    def watch_selected(self) -> None:
        self.show_state()
        self.query(NeuronCard)[self.selected].scroll_visible(animate=False)

    def show_state(self) -> None:
        """Run the chain forward and hand the result to every widget."""
        state = forward(self.chain)
        for card, neuron in zip(self.query(NeuronCard), state.neurons):
            card.show(neuron, selected=neuron.j - 1 == self.selected, last=neuron.j == self.neurons)
        self.query_one(ChainDiagram).show(state)
        self.query_one(GradientRatio).show(state)
        self.query_one(ProductFormula).show(state)
        chosen = state.neurons[self.selected]
        self.query_one(GrowthCondition).show(
            chosen, growth_range(chosen.weight, chosen.bias), widest_growth_range()
        )

    def action_select(self, step: int) -> None:
        """Select the neighbouring neuron (stops at either end)."""
        self.selected = min(max(self.selected + step, 0), self.neurons - 1)

    def action_weight(self, direction: int) -> None:
        """Change the selected neuron's w by one step."""
        self.chain = adjusted(self.chain, self.selected, weight_step=direction * WEIGHT_STEP)

    def action_bias(self, direction: int) -> None:
        """Change the selected neuron's b by one step."""
        self.chain = adjusted(self.chain, self.selected, bias_step=direction * BIAS_STEP)

    def action_exploding(self) -> None:
        """The book's exploding example: w_j = 100, b_j = -100 a_{j-1}, every factor 25."""
        self.chain = exploding_chain(self.neurons, self.chain.x)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            keys = [(binding.key_display or binding.key.replace(",", " "), binding.description)
                    for binding in self.BINDINGS]
            self.push_screen(HelpScreen(keys, about=CHAIN_ABOUT, title="vgrad chain keys"))

    def action_reset(self) -> None:
        """Back to the default chain (w_j = 1, b_j = 0) and the first neuron."""
        self.chain = default_chain(self.neurons, self.chain.x)
        self.selected = 0


def make_chain_app(neurons: int = DEFAULT_NEURONS) -> ChainApp:
    """The chain explorer with n neurons, as `vgrad-tui chain` and the tests build it.

    Raises InputError (exit code 2 in the CLI) if n < 2.
    """
    return ChainApp(neurons)
