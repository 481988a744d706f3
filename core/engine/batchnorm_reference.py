"""Batch normalisation of the hidden layers, in plain numpy: the reference the numba kernels
(batchnorm.py) and central finite differences are checked against.

For hidden layer l, over the B examples of the batch:
    z = W a^{l-1},  ẑ = (z − μ_B)/√(σ²_B + ε),  y = γ ⊙ ẑ + β,  a^l = f(y) (+ a^{l-1} on a skip).
β sits where the bias was (so ∂C/∂β is the layer's s_l); the γ of every hidden layer follow the
net's other parameters, in layer order. The output layer keeps z = Wa + b and σ. Evaluation uses
running averages of μ_B and σ²_B instead of the batch's.
"""

from __future__ import annotations

import numpy as np

from vgrad.core.engine.activations import FUNCTIONS, sigmoid, sigmoid_prime
from vgrad.core.engine.net import B_OFF, N_OUT, RESIDUAL, NetLayout, init_params, make_layout

EPS = 1e-5        # ε in √(σ²_B + ε)
MOMENTUM = 0.1    # running ← (1 − m) running + m · batch statistic, as PyTorch


def gamma_offsets(layout: NetLayout) -> np.ndarray:
    """Where each hidden layer's γ starts in the flat parameters (after every W and b)."""
    widths = layout.table[:-1, N_OUT]
    return (layout.n_params + np.concatenate(([0], np.cumsum(widths)[:-1]))).astype(np.int64)


def n_params(layout: NetLayout) -> int:
    """Parameters of the batch-normalised net: W and b (β) of every layer, γ of every hidden one."""
    return layout.n_params + int(layout.table[:-1, N_OUT].sum())


def init_batchnorm_params(spec, rng: np.random.Generator, **options) -> np.ndarray:
    """init_params' weights (any init), then β = 0 and γ = 1 for every hidden layer."""
    layout = make_layout(spec)
    base = init_params(spec, rng, **options)
    params = np.empty(n_params(layout), dtype=base.dtype)
    params[:layout.n_params] = base
    for b_off, n_out in layout.table[:-1, [B_OFF, N_OUT]]:
        params[b_off:b_off + n_out] = 0.0
    params[layout.n_params:] = 1.0
    return params


def _layer(layout: NetLayout, params: np.ndarray, layer: int):
    """(W, β, γ) of a hidden layer."""
    gamma = gamma_offsets(layout)[layer]
    n_out = layout.table[layer, N_OUT]
    return layout.weight(params, layer), layout.bias(params, layer), params[gamma:gamma + n_out]


def reference_bn_forward(spec, layout: NetLayout, params: np.ndarray, x: np.ndarray,
                         running: tuple[list, list] | None = None):
    """Forward pass. running=None: each hidden layer normalised by the batch's μ_B, σ²_B;
    running=(means, variances): by those (evaluation). Returns (cache per hidden layer, output a^L);
    a cache is (a^{l-1}, ẑ, y, 1/√(σ²+ε), μ_B, σ²_B)."""
    f = FUNCTIONS[spec.activation][0]
    a, caches = x, []
    with np.errstate(over="ignore"):
        for layer in range(layout.n_layers - 1):
            weight, beta, gamma = _layer(layout, params, layer)
            z = a @ weight.T                                   # (B, n)
            mean, var = (z.mean(axis=0), z.var(axis=0)) if running is None else (running[0][layer],
                                                                                  running[1][layer])
            inv_std = 1.0 / np.sqrt(var + EPS)
            z_hat = (z - mean) * inv_std
            y = gamma * z_hat + beta
            a_next = f(y) + (a if layout.table[layer, RESIDUAL] else 0.0)
            caches.append((a, z_hat, y, inv_std, mean, var))
            a = a_next
        out = layout.n_layers - 1
        output = sigmoid(a @ layout.weight(params, out).T + layout.bias(params, out))
    return caches, output, a


def reference_bn_cost(spec, layout, params, x, y) -> float:
    """Mean cost over the batch (no L2 term), the batch's statistics in every hidden layer."""
    from vgrad.core.engine.net import reference_cost

    return reference_cost(spec, reference_bn_forward(spec, layout, params, x)[1], y)


def reference_bn_backward(spec, layout: NetLayout, params: np.ndarray, x: np.ndarray,
                          y: np.ndarray) -> np.ndarray:
    """∂C/∂params (no L2) with batch statistics: δ^L as in net.reference_backward, then per hidden
    layer, with d· = B·∂C/∂· (per-example scale):
    dy = ∂C/∂a ⊙ f'(y); ∂C/∂β = mean dy; ∂C/∂γ = mean dy ⊙ ẑ; dẑ = γ dy;
    dz = (dẑ − mean dẑ − ẑ ⊙ mean(dẑ ⊙ ẑ)) / √(σ² + ε); ∂C/∂W = dzᵀ a^{l-1} / B."""
    f_prime = FUNCTIONS[spec.activation][1]
    caches, output, a_last = reference_bn_forward(spec, layout, params, x)
    batch = len(x)
    grads = np.zeros_like(params)
    out = layout.n_layers - 1
    delta = output - y
    if spec.cost == "quadratic":
        z_out = a_last @ layout.weight(params, out).T + layout.bias(params, out)
        delta = delta * sigmoid_prime(z_out)
    w_off, b_off, n_out, n_in, _ = layout.table[out]
    grads[w_off:w_off + n_out * n_in] = (delta.T @ a_last / batch).ravel()
    grads[b_off:b_off + n_out] = delta.mean(axis=0)
    grad_a = delta @ layout.weight(params, out)               # ∂C/∂a^{L-1}, per-example scale
    gammas = gamma_offsets(layout)
    for layer in range(out - 1, -1, -1):
        a_prev, z_hat, y_pre, inv_std, _, _ = caches[layer]
        weight, _, gamma = _layer(layout, params, layer)
        w_off, b_off, n_out, n_in, _ = layout.table[layer]
        dy = grad_a * f_prime(y_pre)
        grads[b_off:b_off + n_out] = dy.mean(axis=0)
        grads[gammas[layer]:gammas[layer] + n_out] = (dy * z_hat).mean(axis=0)
        d_hat = dy * gamma
        dz = (d_hat - d_hat.mean(axis=0) - z_hat * (d_hat * z_hat).mean(axis=0)) * inv_std
        grads[w_off:w_off + n_out * n_in] = (dz.T @ a_prev / batch).ravel()
        if layer == 0:
            break
        grad_prev = dz @ weight
        if layout.table[layer, RESIDUAL]:
            grad_prev = grad_prev + grad_a
        grad_a = grad_prev
    return grads
