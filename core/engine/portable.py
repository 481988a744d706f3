"""The portable kernel set: the names of simd/products.py in plain numba loops and BLAS (numba's
own bridge, or blas.loop_matmul without it), with libm's exp and log and no hand-written LLVM.

kernel_set.py chooses it when VGRAD_SIMD=0, when numba's target has no SIMD path, or when the
SIMD kernels do not compile. The maths is the same, so are the numbers to rounding (a test
holds the two sets to 1e-12 on a run); the probe set's first layer runs on BLAS over every
pixel, and mini-batch SGD on BLAS too.
"""

from __future__ import annotations

import math

import numpy as np

from vgrad.core.engine.activations import CE_EPS
from vgrad.core.engine.blas import matmul
from vgrad.core.engine.jit import NO, YES, inline_kernel, kernel


@inline_kernel
def lanes_of(array):
    """simd's lanes per vector, for thresholds that depend on it: one here."""
    return 1


@inline_kernel
def exp(x):
    """e^x in float64 (libm's)."""
    return math.exp(np.float64(x))


@inline_kernel
def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}) in float64."""
    return 1.0 / (1.0 + math.exp(-np.float64(z)))


@inline_kernel
def _clamped_log(v):
    """ln max(v, ε), NaN kept (as Python's max(v, ε) keeps it)."""
    return math.log(CE_EPS if v < CE_EPS else v)


@inline_kernel
def cross_entropy_one(a, t):
    """t·ln max(a, ε) + (1 − t)·ln max(1 − a, ε) in float64."""
    a64, t64 = np.float64(a), np.float64(t)
    return t64 * _clamped_log(a64) + (1.0 - t64) * _clamped_log(1.0 - a64)


@kernel
def sigmoid_span(z, a, count, bias):
    """z[:count] += bias, a[:count] = σ(z)."""
    for i in range(count):
        z[i] = z[i] + bias
        a[i] = sigmoid(z[i])


@kernel
def cross_entropy_sum(out, targets, count):
    """Σ_i t_i ln a_i + (1 − t_i) ln(1 − a_i) over out[:count], in order."""
    total = 0.0
    for i in range(count):
        total += cross_entropy_one(out[i], targets[i])
    return total


@inline_kernel
def weighted_sum(params, layer, hidden, w_off, n_out, n_in, prev, prev_off, prev_rows, batch, buffers, offset,
                 panels, thin):
    """z^l = W^l a^{l-1} (no bias) into buffers.zs[offset:], on BLAS (panels and thin unused:
    the product over every pixel gives the same numbers)."""
    matmul(n_out, batch, n_in, 1.0, params, w_off, YES, prev, prev_off, prev_rows, 0.0, buffers.zs, offset, hidden)


@inline_kernel
def back_product(params, w_off, n_out, n_in, deltas, offset, batch, rows, target, prev, buffers, thin):
    """∂C/∂a^{l-1} = W^lᵀ δ^l into target[prev:], on BLAS."""
    matmul(n_in, batch, n_out, 1.0, params, w_off, NO, deltas, offset, rows, 0.0, target, prev, YES)


@inline_kernel
def weight_product(params, grads, layer, rows, w_off, n_out, n_in, deltas, offset, batch, a_prev, a_off, a_rows,
                   xf, buffers, panels, thin, fused, alpha, decay):
    """∂C/∂W^l = α δ^l a^{l-1}ᵀ into grads, or fused: W^l ← decay·W^l + α δ^l a^{l-1}ᵀ, on BLAS."""
    if fused:
        matmul(n_out, n_in, batch, alpha, deltas, offset, rows, a_prev, a_off, not a_rows, decay, params, w_off, YES)
    else:
        matmul(n_out, n_in, batch, alpha, deltas, offset, rows, a_prev, a_off, not a_rows, 0.0, grads, w_off, YES)
