"""A model watched from outside vgrad (`vgrad.watch`, `vgrad.Recorder`): a name and its layers.

It is a Subject (core/subject.py), as a built-in net's NetSpec is: `layer_names` are the
layers shown, one per entry of a record's per-layer series; the last of them is the model's
output layer, so `hidden_layers` are the others. `lens` is the lens the viewer opens on,
`activations` (with their kinds) the rows of the saturation lens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vgrad.core.errors import InputError
from vgrad.core.subject import HEADER_LENSES

MAX_LAYERS = 10_000   # a header naming more layers is refused: the panel would never fit them
MAX_NAME = 200        # characters in a layer's or model's name


@dataclass(frozen=True)
class ModelSpec:
    name: str                     # the model's name (its class name unless given)
    layers: tuple[str, ...]       # qualified names of the layers, in registration order
    total: int = 0                # the model's layers when only some are shown (0: all are)
    lens: str = "bias"            # the lens the viewer opens on: "bias" or "weight"
    activations: tuple[str, ...] = ()        # the activation modules measured for saturation, if any
    activation_kinds: tuple[str, ...] = ()   # their kinds ("sigmoid", "tanh", "relu", …), when known

    @property
    def hidden(self) -> int:
        return len(self.layers)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.layers

    @property
    def hidden_layers(self) -> tuple[str, ...]:
        """Every layer shown but the last, the model's output layer."""
        return self.layers[:-1]

    @property
    def label(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        """The panel's title: `Net · 12 layers`, `Net · 5 of 50 layers`."""
        shown = f"{self.hidden} of {self.total}" if self.total else f"{self.hidden}"
        return f"{self.name} · {shown} layer{'s' * (max(self.hidden, self.total) != 1)}"

    @property
    def description(self) -> str:
        return "watched: s_l = ‖∂L/∂b‖"

    @property
    def cost_name(self) -> str:
        return "loss"

    def as_header(self, net: int) -> dict[str, Any]:
        """The model's entry in a run file header's "nets"."""
        activations = {"activations": list(self.activations)} if self.activations else {}
        kinds = {"activation_kinds": list(self.activation_kinds)} if self.activation_kinds else {}
        return {"id": net, "name": self.name, "layers": list(self.layers), "lens": self.lens, **activations, **kinds}


def model_spec(name: object, layers: object, *, lens: object = None, activations: object = None,
               activation_kinds: object = None) -> ModelSpec:
    """A ModelSpec from a header's or a caller's values, or InputError naming what is wrong."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise InputError(f"model name {name!r}: give a non-empty string of at most {MAX_NAME} characters")
    names = _names(f"layers of {name}", layers, "layer", least=1)
    if lens is not None and lens not in HEADER_LENSES:
        raise InputError(f"lens of {name}: {lens!r} is not one of {', '.join(HEADER_LENSES)}")
    rows = () if activations is None else _names(f"activations of {name}", activations, "activation", least=0)
    kinds = () if activation_kinds is None else _kinds(name, activation_kinds, len(rows))
    return ModelSpec(name=name, layers=names, lens=str(lens or "bias"), activations=rows, activation_kinds=kinds)


def _names(what: str, names: object, word: str, least: int) -> tuple[str, ...]:
    """A list of distinct non-empty names, or InputError naming the first bad one."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise InputError(f"{what}: give a list of {word} names, not {type(names).__name__}")
    if not least <= len(names) <= MAX_LAYERS:
        raise InputError(f"{what}: {len(names)} given; need {least} to {MAX_LAYERS}")
    bad = next((each for each in names if not isinstance(each, str) or not each or len(each) > MAX_NAME), None)
    if bad is not None:
        raise InputError(f"{what}: {bad!r} is not a name (a non-empty string of at most {MAX_NAME} characters)")
    if len(set(names)) != len(names):
        twice = next(each for each in names if names.count(each) > 1)
        raise InputError(f"{what}: {twice!r} is named twice")
    return tuple(names)


def _kinds(name: str, kinds: object, count: int) -> tuple[str, ...]:
    """One kind word per activation, or InputError."""
    if isinstance(kinds, str) or not isinstance(kinds, (list, tuple)) or len(kinds) != count:
        raise InputError(f"activation kinds of {name}: give one kind per activation ({count})")
    bad = next((kind for kind in kinds if not isinstance(kind, str) or not kind or len(kind) > MAX_NAME), None)
    if bad is not None:
        raise InputError(f"activation kinds of {name}: {bad!r} is not a kind name")
    return tuple(kinds)
