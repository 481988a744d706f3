"""numba kernels for batch-normalised nets (the maths and the parameter layout: batchnorm_reference.py).

Simple loops and np.dot, serial and nogil like every kernel. Buffers are flat, a block of
B·n_l numbers per layer l = 1..L, each block (B, n_l) by rows; the output block of `acts`
is where kernels.output_cost and probe_summary read it, and β sits in the bias slots, so
s_l = ‖∂C/∂β‖ and ‖∂C/∂W‖ come out of `grads` exactly as for a plain net.
`mode`: BATCH normalises by the batch's μ_B, σ²_B; TRAIN does too and moves the running
averages; EVAL normalises by the running averages.
"""

from __future__ import annotations

import math

import numpy as np

from vgrad.core.engine.activations import QUADRATIC, SIGMOID
from vgrad.core.engine.batchnorm_reference import EPS, MOMENTUM
from vgrad.core.engine.jit import kernel
from vgrad.core.engine.kernels import _activate, _derivative
from vgrad.core.engine.net import N_OUT

BATCH, TRAIN, EVAL = 0, 1, 2


@kernel
def _normalise(z, z_hat, y, a, beta, gamma, mean, inv_std, run_mean, run_var, mode, code):
    """One hidden block (B, n): μ and 1/√(σ² + ε) per feature, ẑ, y = γẑ + β, a = f(y)."""
    batch, n = z.shape
    for j in range(n):
        if mode == EVAL:
            mu, var = run_mean[j], run_var[j]
        else:
            total = 0.0
            for i in range(batch):
                total += z[i, j]
            mu = total / batch
            total = 0.0
            for i in range(batch):
                total += (z[i, j] - mu) * (z[i, j] - mu)
            var = total / batch
            if mode == TRAIN:
                unbiased = var * batch / (batch - 1) if batch > 1 else var
                run_mean[j] = (1.0 - MOMENTUM) * run_mean[j] + MOMENTUM * mu
                run_var[j] = (1.0 - MOMENTUM) * run_var[j] + MOMENTUM * unbiased
        scale = 1.0 / math.sqrt(var + EPS)
        mean[j] = mu
        inv_std[j] = scale
        for i in range(batch):
            value = (z[i, j] - mu) * scale
            z_hat[i, j] = value
            y[i, j] = gamma[j] * value + beta[j]
            a[i, j] = _activate(y[i, j], code)


@kernel
def bn_forward(net, bn, buffers, x, mode):
    """Forward pass of a batch-normalised net over x (B, n_0); returns where the output block
    (B, n_L) starts in buffers.acts."""
    params, table, act_code = net.params, net.table, net.act_code
    gammas, z_hats, ys = bn.gammas, bn.z_hats, bn.ys
    means, inv_stds, run_means, run_vars = bn.means, bn.inv_stds, bn.run_means, bn.run_vars
    zs, acts = buffers.zs, buffers.acts
    batch = x.shape[0]
    n_layers = table.shape[0]
    a_prev = x
    offset = 0
    stats = 0
    for layer in range(n_layers):
        w_off, b_off, n_out, n_in, residual = table[layer]
        weight = params[w_off:w_off + n_out * n_in].reshape(n_out, n_in)
        z = zs[offset:offset + batch * n_out].reshape(batch, n_out)
        a = acts[offset:offset + batch * n_out].reshape(batch, n_out)
        np.dot(a_prev, weight.T, z)
        if layer < n_layers - 1:
            _normalise(z, z_hats[offset:offset + batch * n_out].reshape(batch, n_out),
                       ys[offset:offset + batch * n_out].reshape(batch, n_out), a,
                       params[b_off:b_off + n_out], params[gammas[layer]:gammas[layer] + n_out],
                       means[stats:stats + n_out], inv_stds[stats:stats + n_out],
                       run_means[stats:stats + n_out], run_vars[stats:stats + n_out], mode, act_code)
            if residual:
                a += a_prev
            stats += n_out
        else:
            for i in range(batch):
                for j in range(n_out):
                    z[i, j] += params[b_off + j]
                    a[i, j] = _activate(z[i, j], SIGMOID)  # the output layer is always σ
        a_prev = a
        offset += batch * n_out
    return offset - batch * table[n_layers - 1, N_OUT]


@kernel
def bn_backward(net, bn, buffers, x, y):
    """buffers.grads ← mean ∂C/∂params over the batch (no L2), after bn_forward with batch statistics.

    d· = B·∂C/∂·: dy = ∂C/∂a ⊙ f'(y); ∂C/∂β = mean dy; ∂C/∂γ = mean dy ⊙ ẑ;
    dz = γ(dy − mean dy − ẑ ⊙ mean(dy ⊙ ẑ))/√(σ² + ε); ∂C/∂W = dzᵀ a^{l-1}/B; ∂C/∂a^{l-1} = dz W
    (+ ∂C/∂a^l through a skip).
    """
    params, table, act_code, cost_code = net.params, net.table, net.act_code, net.cost_code
    gammas, z_hats, ys, dzs, inv_stds = bn.gammas, bn.z_hats, bn.ys, bn.dzs, bn.inv_stds
    acts, grad_acts, grads = buffers.acts, buffers.grad_acts, buffers.grads
    batch = x.shape[0]
    n_layers = table.shape[0]
    starts = np.zeros(n_layers + 1, dtype=np.int64)  # block offsets; starts[l+1] - starts[l] = B·n_l
    for layer in range(n_layers):
        starts[layer + 1] = starts[layer] + batch * table[layer, N_OUT]
    stats = np.int64(0)
    for layer in range(n_layers - 1):
        stats += table[layer, N_OUT]
    for layer in range(n_layers - 1, -1, -1):
        w_off, b_off, n_out, n_in, residual = table[layer]
        lo, hi = starts[layer], starts[layer + 1]
        dz = dzs[lo:hi].reshape(batch, n_out)
        if layer == n_layers - 1:
            a_out = acts[lo:hi].reshape(batch, n_out)
            for i in range(batch):
                for j in range(n_out):
                    d = a_out[i, j] - y[i, j]
                    if cost_code == QUADRATIC:
                        d *= a_out[i, j] * (1.0 - a_out[i, j])
                    dz[i, j] = d
            for j in range(n_out):
                total = 0.0
                for i in range(batch):
                    total += dz[i, j]
                grads[b_off + j] = total / batch
        else:
            stats -= n_out
            g = grad_acts[lo:hi].reshape(batch, n_out)
            y_pre = ys[lo:hi].reshape(batch, n_out)
            z_hat = z_hats[lo:hi].reshape(batch, n_out)
            for j in range(n_out):
                gamma = params[gammas[layer] + j]
                sum_dy = 0.0
                sum_dy_hat = 0.0
                for i in range(batch):
                    dy = g[i, j] * _derivative(y_pre[i, j], act_code)
                    dz[i, j] = dy
                    sum_dy += dy
                    sum_dy_hat += dy * z_hat[i, j]
                mean_dy, mean_dy_hat = sum_dy / batch, sum_dy_hat / batch
                grads[b_off + j] = mean_dy
                grads[gammas[layer] + j] = mean_dy_hat
                scale = gamma * inv_stds[stats + j]
                for i in range(batch):
                    dz[i, j] = scale * (dz[i, j] - mean_dy - z_hat[i, j] * mean_dy_hat)
        a_prev = x if layer == 0 else acts[starts[layer - 1]:lo].reshape(batch, n_in)
        grad_w = grads[w_off:w_off + n_out * n_in].reshape(n_out, n_in)
        np.dot(dz.T, a_prev, grad_w)
        grad_w *= 1.0 / batch
        if layer > 0:
            weight = params[w_off:w_off + n_out * n_in].reshape(n_out, n_in)
            below = grad_acts[starts[layer - 1]:lo].reshape(batch, n_in)
            np.dot(dz, weight, below)
            if residual:
                below += grad_acts[lo:hi].reshape(batch, n_out)


@kernel
def bn_update(net, bn, grads, hyper):
    """W ← (1 − ηλ/n)W − η∂C/∂W; β, γ and the output bias ← − η∂C/∂·; every gradient first scaled
    to global norm ≤ clip if clip > 0."""
    params, table, gammas = net.params, net.table, bn.gammas
    eta, lmbda, n_train, clip = hyper.eta, hyper.lmbda, hyper.n_train, hyper.clip
    step = eta
    if clip > 0.0:
        norm = math.sqrt(np.sum(grads * grads))
        if norm > clip:
            step = eta * clip / norm
    decay = 1.0 - eta * lmbda / n_train
    for layer in range(table.shape[0]):
        w_off, b_off, n_out, n_in, _ = table[layer]
        for k in range(w_off, w_off + n_out * n_in):
            params[k] = decay * params[k] - step * grads[k]
        for k in range(b_off, b_off + n_out):
            params[k] -= step * grads[k]
    for k in range(gammas[0], params.shape[0]):
        params[k] -= step * grads[k]


@kernel
def bn_sgd_steps(net, bn, buffers, hyper, train_x, train_y, order, first_batch, n_batches):
    """Mini-batch SGD over batches first_batch … first_batch+n_batches−1 of `order`, each
    normalised by its own statistics (moving the running averages); False once a parameter
    is not finite."""
    params, xb, yb, batch_size = net.params, buffers.xb, buffers.yb, hyper.batch_size
    n_train = order.shape[0]
    n_in = train_x.shape[1]
    n_out = train_y.shape[1]
    for index in range(first_batch, first_batch + n_batches):
        start = index * batch_size
        size = min(start + batch_size, n_train) - start
        xv = xb[:size * n_in].reshape(size, n_in)
        yv = yb[:size * n_out].reshape(size, n_out)
        for i in range(size):
            row = order[start + i]
            for k in range(n_in):
                xv[i, k] = train_x[row, k]
            for k in range(n_out):
                yv[i, k] = train_y[row, k]
        bn_forward(net, bn, buffers, xv, TRAIN)
        bn_backward(net, bn, buffers, xv, yv)
        bn_update(net, bn, buffers.grads, hyper)
    for k in range(params.shape[0]):
        if not math.isfinite(params[k]):
            return False
    return True
