"""Which parts of a PyTorch model `vgrad.watch` records: its layers, their bias-like parameters,
its activation modules, and the lens the viewer opens on.

A layer is a module that owns parameters directly, named by its qualified name, in registration
order (a module registered twice is one layer, under its first name). Its bias gradient is every
bias-like parameter it owns, one norm over all of them: a parameter is bias-like when its own
name is `bias`, starts with `bias_` or ends with `_bias` (nn.Linear's `bias`, nn.LSTM's
`bias_ih_l0`/`bias_hh_l0`, nn.MultiheadAttention's `in_proj_bias` and `bias_k`). Every other
parameter counts towards the weight gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "(root)"   # the name of a model that owns parameters itself
BIAS, WEIGHT = "bias", "weight"   # the lenses a watched run can open on

# activation modules by class name (lower case) → the kind written in the header: torch.nn's and
# those of transformers (GELUActivation, …) and timm (Swish, …). The ReLU family's units can die
# (SiLU, GELU, Mish and the hard variants pass back almost nothing below 0 too), sigmoid's and tanh's saturate
ACTIVATION_KINDS = {name.lower(): kind for kind, names in {
    "sigmoid": ("Sigmoid", "Hardsigmoid", "HardSigmoid"),
    "tanh": ("Tanh", "Hardtanh"),
    "relu": ("ReLU", "ReLU6", "ReLUSquaredActivation"),
    "leaky_relu": ("LeakyReLU", "PReLU", "RReLU"),
    "elu": ("ELU", "CELU", "SELU"),
    "gelu": ("GELU", "GELUActivation", "NewGELUActivation", "FastGELUActivation", "QuickGELUActivation",
             "QuickGELU", "ClippedGELUActivation", "AccurateGELUActivation", "GELUTanh", "PytorchGELUTanh"),
    "silu": ("SiLU", "SiLUActivation", "Swish", "Mish", "MishActivation", "HardMish", "Hardswish", "HardSwish"),
}.items() for name in names}
SATURATING = ("sigmoid", "tanh")


@dataclass(frozen=True)
class Layer:
    name: str
    module: object           # the torch.nn.Module
    biases: tuple            # its bias-like parameters, in registration order
    others: tuple            # its other parameters

    @property
    def parameters(self) -> tuple:
        return self.biases + self.others


def is_bias_like(name: str) -> bool:
    """Whether a parameter named `name` (its own name, not qualified) is a bias."""
    return name == "bias" or name.startswith("bias_") or name.endswith("_bias")


def find_layers(model) -> list[Layer]:
    """The model's layers: modules owning parameters directly, in registration order."""
    layers = []
    for qualified, module in model.named_modules():
        own = list(module.named_parameters(recurse=False))
        if own:
            layers.append(Layer(qualified or ROOT, module, tuple(p for n, p in own if is_bias_like(n)),
                                tuple(p for n, p in own if not is_bias_like(n))))
    return layers


def default_lens(layers: list[Layer]) -> str:
    """"weight" when more than half of the layers have no bias-like parameter (a LLaMA-style
    model: Linear(bias=False), RMSNorm), else "bias", the book's s_l."""
    without = sum(not layer.biases for layer in layers)
    return WEIGHT if 2 * without > len(layers) else BIAS


@dataclass(frozen=True)
class Activation:
    name: str
    module: object           # the torch.nn.Module
    kind: str                # ACTIVATION_KINDS' word
    channels_first: bool | None   # its units: dim 1 (B, C, …) or the last (B, …, C); None: not known


def find_activations(model) -> list[Activation]:
    """Each activation module (ACTIVATION_KINDS: a module with no modules inside, whatever library
    it comes from), in registration order; activations called as functions (F.relu) are not
    modules and not found. Its units are channels (dim 1) when the module registered just before
    it in the same parent is a convolution or a norm over channels, the last dim (features) when
    it is another module, and not known when there is none (activations.unit_dim guesses)."""
    before = _registered_before(model)
    found = []
    for qualified, module in model.named_modules():
        kind = ACTIVATION_KINDS.get(type(module).__name__.lower())
        if kind is not None and not module._modules:
            previous = before.get(id(module))
            channels_first = None if previous is None else type(previous).__name__.startswith(CHANNEL_MAKERS)
            found.append(Activation(qualified or ROOT, module, kind, channels_first))
    return found


CHANNEL_MAKERS = ("Conv", "LazyConv", "BatchNorm", "LazyBatchNorm", "SyncBatchNorm", "InstanceNorm", "GroupNorm")


def _registered_before(model) -> dict[int, object]:
    """id of each module → the module registered just before it in its (first) parent, if any."""
    before: dict[int, object] = {}
    for module in model.modules():
        previous = None
        for child in module._modules.values():
            if child is not None:
                before.setdefault(id(child), previous)
                previous = child
    return before
