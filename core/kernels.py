"""numba kernels: forward, backward and update of a whole batch, on preallocated buffers.

All kernels are serial and `nogil`, so one Python thread per net runs truly in
parallel. Shapes: x (B, n_0); z and a buffers hold, for each layer l = 1..L, a
(B, n_l) block one after another (flat, Σ n_l · B long); `table` is
NetLayout.table. Matrix products go through BLAS via np.dot (SciPy provides it).
Activation codes follow activations.CODES; cost codes activations.COST_CODES.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SIGMOID, TANH, RELU, LEAKY_RELU, ELU = 0, 1, 2, 3, 4
CROSS_ENTROPY, QUADRATIC = 0, 1
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
_CE_EPS = 1e-300  # keeps log() finite where a saturates to exactly 0 or 1

_JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")


@njit(inline="always", **_JIT)
def _activate(z, code):
    if code == SIGMOID:
        return 1.0 / (1.0 + math.exp(-z))
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    return z if z > 0.0 else ELU_ALPHA * math.expm1(z)


@njit(inline="always", **_JIT)
def _derivative(z, code):
    if code == SIGMOID:
        s = 1.0 / (1.0 + math.exp(-z))
        return s * (1.0 - s)
    if code == TANH:
        t = math.tanh(z)
        return 1.0 - t * t
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    return 1.0 if z > 0.0 else ELU_ALPHA * math.exp(z)


@njit(**_JIT)
def forward(params, table, x, zs, acts, act_code):
    """z^l = a^{l-1} W^lᵀ + b^l, a^l = f(z^l) (+ a^{l-1} on a skip); output layer sigmoid."""
    batch = x.shape[0]
    n_layers = table.shape[0]
    a_prev = x
    offset = 0
    for layer in range(n_layers):
        w_off, b_off, n_out, n_in, residual = table[layer]
        weight = params[w_off : w_off + n_out * n_in].reshape(n_out, n_in)
        z = zs[offset : offset + batch * n_out].reshape(batch, n_out)
        a = acts[offset : offset + batch * n_out].reshape(batch, n_out)
        np.dot(a_prev, weight.T, z)
        code = SIGMOID if layer == n_layers - 1 else act_code
        for i in range(batch):
            for j in range(n_out):
                zij = z[i, j] + params[b_off + j]
                z[i, j] = zij
                a[i, j] = _activate(zij, code)
        if residual:
            a += a_prev
        a_prev = a
        offset += batch * n_out
    return offset - batch * table[n_layers - 1, 2]  # where the output block starts


@njit(**_JIT)
def output_cost(acts, out_start, y, cost_code):
    """Mean cost over the batch (no L2 term): cross-entropy or ½‖a − y‖²."""
    batch, n_out = y.shape
    out = acts[out_start : out_start + batch * n_out].reshape(batch, n_out)
    total = 0.0
    for i in range(batch):
        for j in range(n_out):
            a, t = out[i, j], y[i, j]
            if cost_code == QUADRATIC:
                total += 0.5 * (a - t) * (a - t)
            else:
                if t != 0.0:
                    total -= t * math.log(max(a, _CE_EPS))
                if t != 1.0:
                    total -= (1.0 - t) * math.log(max(1.0 - a, _CE_EPS))
    return total / batch


@njit(**_JIT)
def backward(params, table, x, y, zs, acts, deltas, grad_acts, grads, act_code, cost_code):
    """Backprop after `forward`: grads = mean ∂C/∂params over the batch (no L2).

    δ^L = a − y (cross-entropy) or (a − y)σ'(z^L); δ^l = (δ^{l+1} W^{l+1} + skip) ⊙ f'(z^l);
    ∂C/∂b^l = mean_x δ^l, ∂C/∂W^l = δ^lᵀ a^{l-1} / B. `deltas` keeps every δ^l.
    """
    batch = x.shape[0]
    n_layers = table.shape[0]
    inv_batch = 1.0 / batch
    offset = 0  # start of the output block: Σ_{l<L} B·n_l
    for layer in range(n_layers - 1):
        offset += batch * table[layer, 2]
    n_out = table[n_layers - 1, 2]
    a_out = acts[offset : offset + batch * n_out].reshape(batch, n_out)
    z_out = zs[offset : offset + batch * n_out].reshape(batch, n_out)
    delta = deltas[offset : offset + batch * n_out].reshape(batch, n_out)
    for i in range(batch):
        for j in range(n_out):
            d = a_out[i, j] - y[i, j]
            if cost_code == QUADRATIC:
                d *= _derivative(z_out[i, j], SIGMOID)
            delta[i, j] = d
    for layer in range(n_layers - 1, -1, -1):
        w_off, b_off, n_out, n_in, residual = table[layer]
        delta = deltas[offset : offset + batch * n_out].reshape(batch, n_out)
        if layer == 0:
            a_prev = x
        else:
            a_prev = acts[offset - batch * n_in : offset].reshape(batch, n_in)
        grad_w = grads[w_off : w_off + n_out * n_in].reshape(n_out, n_in)
        np.dot(delta.T, a_prev, grad_w)
        grad_w *= inv_batch
        for j in range(n_out):
            grads[b_off + j] = 0.0
        for i in range(batch):
            for j in range(n_out):
                grads[b_off + j] += delta[i, j]
        for j in range(n_out):
            grads[b_off + j] *= inv_batch
        if layer == 0:
            break
        prev = offset - batch * n_in
        weight = params[w_off : w_off + n_out * n_in].reshape(n_out, n_in)
        grad_a_prev = grad_acts[prev:offset].reshape(batch, n_in)
        np.dot(delta, weight, grad_a_prev)
        if residual:
            grad_a_prev += grad_acts[offset : offset + batch * n_out].reshape(batch, n_out)
        z_prev = zs[prev:offset].reshape(batch, n_in)
        delta_prev = deltas[prev:offset].reshape(batch, n_in)
        for i in range(batch):
            for j in range(n_in):
                delta_prev[i, j] = grad_a_prev[i, j] * _derivative(z_prev[i, j], act_code)
        offset = prev


@njit(**_JIT)
def update(params, grads, table, eta, lmbda, n_train, clip):
    """W ← (1 − ηλ/n)W − η∂C/∂W, b ← b − η∂C/∂b; gradients first scaled to global norm ≤ clip if clip > 0."""
    scale = 1.0
    if clip > 0.0:
        norm = math.sqrt(np.sum(grads * grads))
        if norm > clip:
            scale = clip / norm
    step = eta * scale
    decay = 1.0 - eta * lmbda / n_train
    for layer in range(table.shape[0]):
        w_off, b_off, n_out, n_in, _ = table[layer]
        for k in range(w_off, w_off + n_out * n_in):
            params[k] = decay * params[k] - step * grads[k]
        for k in range(b_off, b_off + n_out):
            params[k] -= step * grads[k]


@njit(**_JIT)
def weight_square_sum(params, table):
    """Σ‖W^l‖², for the L2 term of the cost."""
    total = 0.0
    for layer in range(table.shape[0]):
        w_off, _, n_out, n_in, _ = table[layer]
        for k in range(w_off, w_off + n_out * n_in):
            total += params[k] * params[k]
    return total


@njit(**_JIT)
def sgd_steps(params, table, train_x, train_y, order, first_batch, n_batches, batch_size,
              xb, yb, zs, acts, deltas, grad_acts, grads, eta, lmbda, clip, act_code, cost_code):
    """Mini-batch SGD over batches first_batch .. first_batch+n_batches−1 of `order`.

    The last batch of an epoch may be short, as in network2. Returns False at the
    first non-finite parameter (the net diverged), True otherwise.
    """
    n_train = order.shape[0]
    n_in = train_x.shape[1]
    n_out = train_y.shape[1]
    for batch_index in range(first_batch, first_batch + n_batches):
        start = batch_index * batch_size
        stop = min(start + batch_size, n_train)
        size = stop - start
        xv = xb[: size * n_in].reshape(size, n_in)
        yv = yb[: size * n_out].reshape(size, n_out)
        for i in range(size):
            row = order[start + i]
            xv[i, :] = train_x[row, :]
            yv[i, :] = train_y[row, :]
        forward(params, table, xv, zs, acts, act_code)
        backward(params, table, xv, yv, zs, acts, deltas, grad_acts, grads, act_code, cost_code)
        update(params, grads, table, eta, lmbda, n_train, clip)
    for k in range(params.shape[0]):
        if not math.isfinite(params[k]):
            return False
    return True


@njit(**_JIT)
def count_correct(params, table, x, labels, zs, acts, act_code):
    """How many rows of x the net classifies as their label (argmax of the output)."""
    out_start = forward(params, table, x, zs, acts, act_code)
    batch = x.shape[0]
    n_out = table[table.shape[0] - 1, 2]
    out = acts[out_start : out_start + batch * n_out].reshape(batch, n_out)
    correct = 0
    for i in range(batch):
        best = 0
        for j in range(1, n_out):
            if out[i, j] > out[i, best]:
                best = j
        if best == labels[i]:
            correct += 1
    return correct
