"""The `?` screen: every key of the dashboard, and what the numbers mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from vgrad.core.lab.book import ADJACENT_RATIO
from vgrad.core.view.summary import ZERO_FLOOR

ABOUT = (
    "s_l = ‖(1/N) Σ_x δ^l_x‖ is the speed of learning of hidden layer l: the norm of the mean "
    "bias gradient ∂C/∂b^l over the probe images. Since δ^l = σ'(z^l) ⊙ (w^{l+1})ᵀ δ^{l+1} and "
    "σ' ≤ 1/4, each layer back usually learns several times slower: the gain ×g = s_{l+1}/s_l "
    f"(×{ADJACENT_RATIO.median} at the book's initialisation) is how much faster the next layer learns, "
    "— where it means nothing (s_l is ≈0 or not finite). Each panel's bottom border gives the "
    "headline: h1:h4 = 1:N means the first hidden layer learns 1/N as fast as the fourth. "
    f"≈0 (drawn ·) is s_l below {ZERO_FLOOR:g}: underflow, σ'(z) saturated. The bars are the signed "
    "∂C/∂b_j of each layer's first neurons: blue for positive, orange for negative. "
    "w switches to the weight lens ‖(1/N) Σ_x ∂C_x/∂W^l‖, which sees what batch norm does: "
    "it removes the mean of the gradient it passes back, so s_l = ‖∂C/∂β‖ stays small."
)


def key_table(keys: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, description in keys:
        table.add_row(key, description)
    return table


class HelpScreen(ModalScreen[None]):
    """A modal list of `keys` as (key, description) pairs; escape, ? or enter closes it."""

    DEFAULT_CSS = """
    HelpScreen #help-box {
        border: round $primary;
        background: $surface;
    }
    HelpScreen #help-about {
        color: $text-muted;
    }
    """

    BINDINGS = [Binding("escape,question_mark,enter", "close", "close help")]

    def __init__(self, keys: list[tuple[str, str]], about: str = ABOUT, **options) -> None:
        super().__init__(**options)
        self.keys = keys
        self.about = about

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "vgrad keys"
            box.border_subtitle = "↑↓ scrolls · escape closes"
            yield Static(key_table(self.keys), id="help-keys")
            yield Static(Text(self.about), id="help-about")

    def action_close(self) -> None:
        self.dismiss()
