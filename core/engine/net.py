"""A net's parameters as one flat vector, its initialisation, and a plain-numpy
reference forward/backward that the numba kernels are tested against: reference_speeds
is the definition of the speed of learning s_l, in a few lines.

Layout: for weight layer l (0-based; the book's layer l+2) W^l has shape
(n_out, n_in) and lives at params[w_off : w_off + n_out*n_in], its bias b^l at
params[b_off : b_off + n_out]. One flat vector makes the update one pass and
lets the kernels take a single array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgrad.core.engine.activations import CODES, COST_CODES, FUNCTIONS, sigmoid, sigmoid_prime
from vgrad.core.spec import NetSpec

W_OFF, B_OFF, N_OUT, N_IN, RESIDUAL = range(5)  # the columns of NetLayout.table


@dataclass(frozen=True)
class NetLayout:
    """Where each layer's W and b sit in the flat parameter vector."""

    sizes: tuple[int, ...]
    table: np.ndarray  # (L, 5) int64: w_off, b_off, n_out, n_in, residual flag
    n_params: int

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def activation_width(self) -> int:
        """Σ n_l over layers 1..L: the per-example size of the z and a buffers."""
        return int(sum(self.sizes[1:]))

    def weight(self, params: np.ndarray, layer: int) -> np.ndarray:
        w_off, _, n_out, n_in, _ = self.table[layer]
        return params[w_off : w_off + n_out * n_in].reshape(n_out, n_in)

    def bias(self, params: np.ndarray, layer: int) -> np.ndarray:
        _, b_off, n_out, _, _ = self.table[layer]
        return params[b_off : b_off + n_out]

    def weight_mask(self) -> np.ndarray:
        """True where the flat vector holds a weight (L2 applies), False for biases."""
        mask = np.zeros(self.n_params, dtype=bool)
        for w_off, _, n_out, n_in, _ in self.table:
            mask[w_off : w_off + n_out * n_in] = True
        return mask


def make_layout(spec: NetSpec) -> NetLayout:
    """Flat layout for a spec; residual only between equal-width hidden layers after the first."""
    sizes = spec.sizes
    n_layers = len(sizes) - 1
    table = np.zeros((n_layers, 5), dtype=np.int64)
    offset = 0
    for layer in range(n_layers):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        is_hidden = layer < n_layers - 1
        residual = spec.residual and is_hidden and layer > 0 and n_in == n_out
        table[layer] = (offset, offset + n_out * n_in, n_out, n_in, int(residual))
        offset += n_out * n_in + n_out
    return NetLayout(sizes=tuple(sizes), table=table, n_params=offset)


def init_params(spec: NetSpec, rng: np.random.Generator, *, probe_x: np.ndarray | None = None,
                explode_w: float = 100.0, dtype=np.float64) -> np.ndarray:
    """Draw the initial flat parameters for spec.init.

    book: W ~ N(0, 1/n_in), b ~ N(0, 1) (network2's default); large: W ~ N(0, 1);
    xavier: W ~ N(0, 2/(n_in+n_out)), b = 0; he: W ~ N(0, 2/n_in), b = 0;
    explode: book's first and last layers, hidden-to-hidden weights all equal w and
    b_j = −mean_x (W a^{l-1})_j over the probe set, so every hidden z sits near 0
    where σ'(z) = 1/4 and each layer multiplies the gradient by about w/4.
    """
    layout = make_layout(spec)
    params = np.empty(layout.n_params, dtype=np.float64)
    for w_off, b_off, n_out, n_in, _ in layout.table:
        std_w, std_b = _init_scales(spec.init, n_in, n_out)
        params[w_off : w_off + n_out * n_in] = rng.standard_normal(n_out * n_in) * std_w
        params[b_off : b_off + n_out] = rng.standard_normal(n_out) * std_b
    if spec.init == "explode":
        with np.errstate(over="ignore"):  # saturated σ(z) is the effect being shown
            _set_exploding(spec, layout, params, probe_x, explode_w)
    return params.astype(dtype)


def _init_scales(init: str, n_in: int, n_out: int) -> tuple[float, float]:
    if init in ("book", "explode"):
        return 1.0 / np.sqrt(n_in), 1.0
    if init == "large":
        return 1.0, 1.0
    if init == "xavier":
        return np.sqrt(2.0 / (n_in + n_out)), 0.0
    if init == "he":
        return np.sqrt(2.0 / n_in), 0.0
    raise ValueError(f"unknown init {init!r}")


def _set_exploding(spec, layout, params, probe_x, w):
    if probe_x is None:
        raise ValueError("the explode init needs the probe set to centre each layer's z")
    f = FUNCTIONS[spec.activation][0]
    a = probe_x.astype(np.float64)
    for layer in range(layout.n_layers - 1):
        weight, bias = layout.weight(params, layer), layout.bias(params, layer)
        if layer > 0:
            weight[:] = w
        z_without_bias = a @ weight.T
        if layer > 0:
            bias[:] = -z_without_bias.mean(axis=0)
        a_next = f(z_without_bias + bias)
        if layout.table[layer, RESIDUAL]:
            a_next = a_next + a
        a = a_next


def reference_forward(spec: NetSpec, layout: NetLayout, params: np.ndarray, x: np.ndarray):
    """Plain numpy forward pass: lists of z^l and a^l, each (B, n_l)."""
    with np.errstate(over="ignore"):
        return _forward(spec, layout, params, x)


def _forward(spec, layout, params, x):
    f = FUNCTIONS[spec.activation][0]
    a, zs, activations = x, [], [x]
    for layer in range(layout.n_layers):
        z = a @ layout.weight(params, layer).T + layout.bias(params, layer)
        is_output = layer == layout.n_layers - 1
        a_next = sigmoid(z) if is_output else f(z)
        if layout.table[layer, RESIDUAL]:
            a_next = a_next + a
        zs.append(z)
        activations.append(a_next)
        a = a_next
    return zs, activations


def reference_cost(spec: NetSpec, output: np.ndarray, y: np.ndarray) -> float:
    """Mean cost over the batch, without the L2 term: cross-entropy or ½‖a − y‖²."""
    if spec.cost == "quadratic":
        return float(0.5 * np.sum((output - y) ** 2) / len(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.nan_to_num(-y * np.log(output) - (1 - y) * np.log(1 - output))
    return float(np.sum(terms) / len(y))


def reference_backward(spec: NetSpec, layout: NetLayout, params: np.ndarray, x: np.ndarray,
                       y: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Backprop in plain numpy: the flat mean gradient ∂C/∂params (no L2) and δ^l per layer.

    δ^L = a − y (cross-entropy) or (a − y)σ'(z^L) (quadratic);
    δ^l = (W^{l+1}ᵀ δ^{l+1} + [residual] ∂C/∂a^{l+1}) ⊙ f'(z^l).
    """
    f_prime = FUNCTIONS[spec.activation][1]
    zs, activations = reference_forward(spec, layout, params, x)
    batch = len(x)
    grads = np.zeros_like(params)
    deltas = [None] * layout.n_layers
    output = activations[-1]
    delta = output - y
    if spec.cost == "quadratic":
        delta = delta * sigmoid_prime(zs[-1])
    grad_a_next = None  # ∂C/∂a of the layer above, needed for its skip connection
    for layer in range(layout.n_layers - 1, -1, -1):
        deltas[layer] = delta
        w_off, b_off, n_out, n_in, _ = layout.table[layer]
        grads[w_off : w_off + n_out * n_in] = (delta.T @ activations[layer] / batch).ravel()
        grads[b_off : b_off + n_out] = delta.mean(axis=0)
        if layer == 0:
            break
        grad_a = delta @ layout.weight(params, layer)
        if layout.table[layer, RESIDUAL]:
            grad_a = grad_a + grad_a_next
        grad_a_next = grad_a
        delta = grad_a * f_prime(zs[layer - 1])
    return grads, deltas


def reference_speeds(spec: NetSpec, layout: NetLayout, params: np.ndarray, x: np.ndarray,
                     y: np.ndarray) -> list[float]:
    """How s_l is computed, in plain numpy (the kernels compute the same, fast):
    s_l = ‖(1/N) Σ_x δ^l_x‖₂, the norm of the mean bias gradient of hidden layer l over the N rows
    of x (the probe set), not the mean of the per-example norms."""
    grads, _ = reference_backward(spec, layout, params, x, y)
    return [float(np.linalg.norm(layout.bias(grads, layer))) for layer in range(layout.n_layers - 1)]


def activation_code(spec: NetSpec) -> int:
    return CODES[spec.activation]


def cost_code(spec: NetSpec) -> int:
    return COST_CODES[spec.cost]
