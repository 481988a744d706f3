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

# activation module classes (torch.nn) → the kind written in the header; the ReLU family's
# units can die, sigmoid's and tanh's saturate
ACTIVATION_KINDS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "ReLU6": "relu",
                    "LeakyReLU": "leaky_relu", "ELU": "elu", "GELU": "gelu", "SiLU": "silu"}
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


def find_activations(model) -> list[tuple[str, object, str]]:
    """(qualified name, module, kind) of each activation module (ACTIVATION_KINDS), in
    registration order; activations called as functions (F.relu) are not modules and not found."""
    found = []
    for qualified, module in model.named_modules():
        kind = ACTIVATION_KINDS.get(type(module).__name__)
        if kind is not None and type(module).__module__.startswith("torch.nn"):
            found.append((qualified or ROOT, module, kind))
    return found
