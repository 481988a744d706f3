"""A model watched from outside vgrad (`vgrad.watch`, `vgrad.Recorder`): a name and its layers.

It stands where a built-in net's NetSpec stands (board, panels, replay): `hidden` is the
number of layers shown, `layer_names` their names, `widths` and `label` the panel's title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vgrad.core.errors import InputError

MAX_LAYERS = 10_000   # a header naming more layers is refused: the panel would never fit them
MAX_NAME = 200        # characters in a layer's or model's name


@dataclass(frozen=True)
class ModelSpec:
    name: str                     # the model's name (its class name unless given)
    layers: tuple[str, ...]       # qualified names of the layers, in registration order
    total: int = 0                # the model's layers when only some are shown (0: all are)
    lens: str | None = None       # format 3: the lens the viewer opens on ("bias" or "weight")
    activations: tuple[str, ...] = ()        # format 3: the saturation lens's rows
    activation_kinds: tuple[str, ...] = ()   # format 3: "sigmoid", "tanh", "relu", … per activation

    @property
    def hidden(self) -> int:
        return len(self.layers)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.layers

    @property
    def label(self) -> str:
        return self.name

    @property
    def widths(self) -> str:
        """The panel's title: `Net · 12 layers`, `Net · 5 of 50 layers`."""
        shown = f"{self.hidden} of {self.total}" if self.total else f"{self.hidden}"
        return f"{self.name} · {shown} layer{'s' * (max(self.hidden, self.total) != 1)}"

    @property
    def description(self) -> str:
        return "watched: s_l = ‖∂L/∂b‖"

    def as_header(self, net: int) -> dict[str, Any]:
        optional = {"lens": self.lens, "activations": list(self.activations) or None,
                    "activation_kinds": list(self.activation_kinds) or None}
        return {"id": net, "name": self.name, "layers": list(self.layers),
                **{key: value for key, value in optional.items() if value is not None}}


def model_spec(name: object, layers: object, lens: object = None, activations: object = None,
               activation_kinds: object = None) -> ModelSpec:
    """A ModelSpec from a header's or a caller's values, or InputError naming what is wrong."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise InputError(f"model name {name!r}: give a non-empty string of at most {MAX_NAME} characters")
    if isinstance(layers, str) or not isinstance(layers, (list, tuple)):
        raise InputError(f"layers of {name}: give a list of layer names, not {type(layers).__name__}")
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise InputError(f"layers of {name}: {len(layers)} given; need 1 to {MAX_LAYERS}")
    bad = next((layer for layer in layers if not isinstance(layer, str) or not layer or len(layer) > MAX_NAME),
               None)
    if bad is not None:
        raise InputError(f"layers of {name}: {bad!r} is not a name (a non-empty string of at most "
                         f"{MAX_NAME} characters)")
    if len(set(layers)) != len(layers):
        twice = next(layer for layer in layers if layers.count(layer) > 1)
        raise InputError(f"layers of {name}: {twice!r} is named twice")
    if lens not in (None, "bias", "weight"):
        raise InputError(f"lens of {name}: {lens!r} is not \"bias\" or \"weight\"")
    rows = [] if activations is None else activations
    kinds = [] if activation_kinds is None else activation_kinds
    if not isinstance(rows, list) or not all(isinstance(row, str) for row in rows) or \
            not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        raise InputError(f"activations of {name}: give lists of names")
    return ModelSpec(name=name, layers=tuple(layers), lens=lens, activations=tuple(rows),
                     activation_kinds=tuple(kinds))
