"""Net specs: parse "784-30-30-10[:option...]" into a NetSpec.

Grammar: widths joined by "-" (the first may be "auto": taken from the data),
then optional ":"-separated options in any order:
  activation  sigmoid | tanh | relu | leaky_relu | elu      (hidden layers; output is sigmoid)
  init        book | large | xavier | he | explode
  residual    res | residual   (skip connection a^l = f(z^l) + a^{l-1} wherever hidden layer l
                                and the one before it have equal widths; refused if none do)
  cost        cross_entropy | quadratic
  batchnorm   batchnorm | bn   (hidden layers: z = Wa, ẑ = (z − μ_B)/√(σ²_B + ε), y = γẑ + β, a = f(y))
Example: "784-30-30-30-30-10:relu:he".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from vgrad.core.errors import InputError

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")
INITS = ("book", "large", "xavier", "he", "explode")
COSTS = ("cross_entropy", "quadratic")
RESIDUAL_WORDS = ("res", "residual")
BATCHNORM_WORDS = ("batchnorm", "bn")
MAX_HIDDEN = 8
MAX_NETS = 4
MAX_WIDTH = 100_000
AUTO = 0  # input width to be taken from the data


@dataclass(frozen=True)
class NetSpec:
    """One fully connected net: widths (n_in, hidden..., n_out) and its options."""

    sizes: tuple[int, ...]
    activation: str = "sigmoid"
    init: str = "book"
    residual: bool = False
    cost: str = "cross_entropy"
    batchnorm: bool = False   # β takes the place of each hidden layer's bias; ∂C/∂β is its s_l

    @property
    def hidden(self) -> int:
        """Number of hidden layers."""
        return len(self.sizes) - 2

    @property
    def layer_names(self) -> tuple[str, ...]:
        """The hidden layers as the dashboard names them: h1 … hk."""
        return tuple(f"h{layer + 1}" for layer in range(self.hidden))

    @property
    def hidden_layers(self) -> tuple[str, ...]:
        """Every measured layer is hidden: records carry no output layer."""
        return self.layer_names

    @property
    def activations(self) -> tuple[str, ...]:
        """The saturation lens's rows: the hidden layers' activations, h1 … hk."""
        return self.layer_names

    @property
    def activation_kinds(self) -> tuple[str, ...]:
        return (self.activation,) * self.hidden

    @property
    def lens(self) -> str:
        """A built-in net opens on the book's bias lens."""
        return "bias"

    @property
    def title(self) -> str:
        """The panel's title: the whole spec."""
        return self.label

    @property
    def description(self) -> str:
        return f"{self.activation} net, {self.init} init: s_l = ‖(1/N) Σ_x δ^l_x‖ over the probe set"

    @property
    def cost_name(self) -> str:
        return "cost"

    @property
    def skip_layers(self) -> tuple[int, ...]:
        """The hidden layers (1-based) that get a residual skip a^l = f(z^l) + a^{l-1}: with
        `residual`, each one as wide as the hidden layer before it."""
        if not self.residual:
            return ()
        return tuple(layer for layer in range(2, self.hidden + 1) if self.sizes[layer] == self.sizes[layer - 1])

    @property
    def widths(self) -> str:
        """The widths as written: "784-30-30-10"."""
        return "-".join("auto" if n == AUTO else str(n) for n in self.sizes)

    @property
    def label(self) -> str:
        """The full spec string, options included only where not default."""
        options = []
        if self.activation != "sigmoid":
            options.append(self.activation)
        if self.init != "book":
            options.append(self.init)
        if self.residual:
            options.append("residual")
        if self.batchnorm:
            options.append("batchnorm")
        if self.cost != "cross_entropy":
            options.append(self.cost)
        return ":".join([self.widths, *options])

    def with_input(self, n_in: int, n_out: int | None = None) -> NetSpec:
        """Fill an `auto` input width from the data; refuse a width that does not match."""
        if self.sizes[0] not in (AUTO, n_in):
            raise InputError(
                f"net {self.label!r}: input width {self.sizes[0]} does not match the data's {n_in} inputs"
            )
        if n_out is not None and self.sizes[-1] != n_out:
            raise InputError(
                f"net {self.label!r}: output width {self.sizes[-1]} does not match the data's {n_out} classes"
            )
        return replace(self, sizes=(n_in, *self.sizes[1:]))


def parse_net(text: str, *, activation: str | None = None, init: str | None = None,
              residual: bool | None = None, cost: str | None = None) -> NetSpec:
    """Parse one spec string; keyword options (from CLI flags) apply where the string is silent."""
    if not isinstance(text, str):
        raise InputError(f"net spec {text!r} is not text")
    raw = text.strip()
    if not raw:
        raise InputError("net spec is empty: write widths like 784-30-30-10")
    widths_part, *options = raw.split(":")
    sizes = _parse_widths(raw, widths_part)
    chosen: dict[str, object] = {}
    for option in options:
        value: str | bool
        word = option.strip().lower().replace("-", "_")
        if word in ACTIVATIONS:
            key, value = "activation", word
        elif word in INITS:
            key, value = "init", word
        elif word in RESIDUAL_WORDS:
            key, value = "residual", True
        elif word in COSTS:
            key, value = "cost", word
        elif word in BATCHNORM_WORDS:
            key, value = "batchnorm", True
        else:
            raise InputError(
                f"net {raw!r}: unknown option {option!r} (activations {', '.join(ACTIVATIONS)}; "
                f"inits {', '.join(INITS)}; residual; batchnorm; costs {', '.join(COSTS)})"
            )
        if key in chosen:
            raise InputError(f"net {raw!r}: {key} given twice")
        chosen[key] = value
    defaults = {"activation": activation, "init": init, "residual": residual, "cost": cost}
    for key, default in defaults.items():
        if key not in chosen and default is not None:
            chosen[key] = default
    _check_choice("activation", chosen.get("activation", "sigmoid"), ACTIVATIONS)
    _check_choice("init", chosen.get("init", "book"), INITS)
    _check_choice("cost", chosen.get("cost", "cross_entropy"), COSTS)
    spec = NetSpec(sizes=sizes, **chosen)  # type: ignore[arg-type]
    if spec.residual and not spec.skip_layers:
        hidden = "-".join(str(width) for width in sizes[1:-1])
        raise InputError(f"net {raw!r}: residual needs two adjacent hidden layers of equal width, "
                         f"and {hidden} has none (no layer would get a skip)")
    return spec


def parse_nets(texts: list[str] | tuple[str, ...], **options: Any) -> tuple[NetSpec, ...]:
    """Parse 1 to MAX_NETS spec strings."""
    if not texts:
        raise InputError("no net given: use --net 784-30-30-10")
    if len(texts) > MAX_NETS:
        raise InputError(f"{len(texts)} nets given; vgrad compares at most {MAX_NETS}")
    return tuple(parse_net(text, **options) for text in texts)


def _parse_widths(raw: str, widths_part: str) -> tuple[int, ...]:
    parts = widths_part.split("-")
    if len(parts) < 3:
        raise InputError(f"net {raw!r}: needs input, at least one hidden layer and output, e.g. 784-30-10")
    sizes = []
    for i, part in enumerate(parts):
        part = part.strip()
        if i == 0 and part.lower() == "auto":
            sizes.append(AUTO)
            continue
        if not (part.isascii() and part.isdigit()) or len(part) > len(str(MAX_WIDTH)):  # not '²' or '٣'
            raise InputError(f"net {raw!r}: width {part!r} is not a whole number from 1 to {MAX_WIDTH}")
        width = int(part)
        if not 1 <= width <= MAX_WIDTH:
            raise InputError(f"net {raw!r}: width {width} is not a whole number from 1 to {MAX_WIDTH}")
        sizes.append(width)
    hidden = len(sizes) - 2
    if hidden > MAX_HIDDEN:
        raise InputError(f"net {raw!r}: {hidden} hidden layers; at most {MAX_HIDDEN}")
    return tuple(sizes)


def _check_choice(what: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")
