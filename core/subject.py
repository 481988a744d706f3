"""What a panel shows: a built-in net (NetSpec) or a watched model (ModelSpec), as one protocol.

Every view (board, panels, replay, headless, plots) asks a Subject for what it needs and
never which kind it is. A record's per-layer series (speed, weight_grad, update_ratio,
neurons) have one entry per name in `layer_names`; its saturated/dead series one per name
in `activations`.
"""

from __future__ import annotations

from typing import Protocol

HEADER_LENSES = ("bias", "weight")   # the lenses a run file may name as the one the viewer opens on


class Subject(Protocol):
    """The thing one panel shows, as every view sees it."""

    @property
    def label(self) -> str:
        """Its name: a built-in net's spec string ("784-30-30-10:relu"), a watched model's name."""
        ...

    @property
    def title(self) -> str:
        """The panel's title: the spec string, or `Net · 5 of 50 layers`."""
        ...

    @property
    def layer_names(self) -> tuple[str, ...]:
        """The layers measured, one per entry of a record's per-layer series."""
        ...

    @property
    def hidden(self) -> int:
        """How many layers are measured: len(layer_names)."""
        ...

    @property
    def hidden_layers(self) -> tuple[str, ...]:
        """The hidden layers among layer_names (a prefix of them), which the headline compares:
        every one for a built-in net; a watched model's all but the last, its output layer."""
        ...

    @property
    def lens(self) -> str:
        """The lens the viewer opens on: "bias" or "weight" (HEADER_LENSES)."""
        ...

    @property
    def activations(self) -> tuple[str, ...]:
        """The rows of the saturation lens (a record's saturated/dead series), maybe none."""
        ...

    @property
    def activation_kinds(self) -> tuple[str, ...]:
        """Each activation's kind ("sigmoid", "tanh", "relu", …); empty when not known."""
        ...

    @property
    def description(self) -> str:
        """One line on what its numbers are."""
        ...

    @property
    def cost_name(self) -> str:
        """What its scalar objective is called: "cost" (the book's C) or "loss"."""
        ...
