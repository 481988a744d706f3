"""numba kernels: forward, backward and update of a whole batch, on preallocated buffers.

How s_l is computed, in plain numpy: net.py's reference_forward and reference_backward (s_l is
‖∂C/∂b^l‖ of the mean gradient over the probe set). That is the definition; the kernels here
compute the same numbers fast, and are tested against it (tests/core/engine/test_kernels.py).

All kernels are serial and `nogil`, so one Python thread per net runs truly in
parallel. They take the named tuples of structs.py: the net (params, NetLayout.table,
activation and cost codes of activations.py), its buffers, the packed probe set and
the hyper-parameters. Shapes: x (B, n_0), C order; the z, a, δ and ∂C/∂a buffers hold,
for each layer l = 1..L, a block of B·n_l numbers one after another (Σ n_l · B long).

Inside a block, hidden layers are stored the book's way round, features × batch
(n_l, B), and the output layer batch × features (B, n_L), so `acts` holds the
output exactly as before (forward's return value is where it starts). The
features × batch layout lets BLAS run the big first-layer product as
W (30×784) · xᵀ rather than x · Wᵀ, and keeps every elementwise loop contiguous
and vectorised.

Which product each layer runs on, σ over a span and the cross-entropy sum come from one of
two kernel sets (kernel_set.py chooses once): simd/products.py, or portable.py (numba loops
and BLAS, where the SIMD kernels do not compile, or with VGRAD_SIMD=0). Speed, on the SIMD set:
- matrix products call BLAS gemm directly (blas.py) with transpose flags, leading
  dimensions, α and β, so no transposed copies are made and the SGD update fuses into
  the product: W ← (1 − ηλ/n)W − (η/B) δ aᵀ is one gemm with β = 1 − ηλ/n;
- mini-batch SGD runs its products on thin_products' SIMD kernels instead (as wide as
  numba's target, see target.py), which read the operands in place; with --clip the
  gradient ∂C/∂W, computed before the update, stays on BLAS;
- on the fixed probe set (the speed experiment, every s_l measurement) the first
  layer, 85 % of the FLOPs, skips the zeros of the images, kept in one of two forms
  made once (`probe_gradient`): compressed, where most pixels are zero (MNIST), for
  sparse.py's products over the nonzero pixels only; else packed, leaving out the
  pixels that are zero in all of them, for panels.py's register-blocked kernel;
- exp and log are our own (simd/vector_math.py: range reduction + polynomial + exponent
  bits, ≤ 1 and ≤ 3 ulp) so the sigmoid and cross-entropy loops vectorise; libm's do not
  vectorise here;
- σ'(z) = a(1 − a) and tanh'(z) = 1 − a² from the stored activations (no exp in
  backward), except on residual layers where a is not f(z);
- sums run in interleaved partial sums in a fixed order (bit-identical runs).
No fastmath anywhere (fused multiply-adds are explicit llvm.fma calls): results are
deterministic for a given machine, kernel set and BLAS.
"""

from __future__ import annotations

import math

import numpy as np

from vgrad.core.engine.activations import (
    ELU_ALPHA,
    LEAKY_RELU,
    LEAKY_SLOPE,
    QUADRATIC,
    RELU,
    SIGMOID,
    TANH,
)
from vgrad.core.engine.jit import I0, NO, YES, inline_kernel, kernel
from vgrad.core.engine.kernel_set import SIMD
from vgrad.core.engine.net import B_OFF, N_OUT, RESIDUAL
from vgrad.core.engine.structs import Compressed, Panels, no_panels

if SIMD:
    from vgrad.core.engine.simd.products import (
        back_product,
        cross_entropy_sum,
        exp,
        lanes_of,
        sigmoid,
        sigmoid_span,
        weight_product,
        weighted_sum,
    )
else:
    from vgrad.core.engine.portable import (
        back_product,
        cross_entropy_sum,
        exp,
        lanes_of,
        sigmoid,
        sigmoid_span,
        weight_product,
        weighted_sum,
    )


@inline_kernel
def _activate(z, code):
    if code == SIGMOID:
        return sigmoid(z)
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    return z if z > 0.0 else ELU_ALPHA * math.expm1(z)


@inline_kernel
def _derivative(z, code):
    if code == SIGMOID:
        s = sigmoid(z)
        return s * (1.0 - s)
    if code == TANH:
        t = math.tanh(z)
        return 1.0 - t * t
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    return 1.0 if z > 0.0 else ELU_ALPHA * exp(z)


@inline_kernel
def _term(value, squares):
    return value * value if squares else value


@kernel
def _sum(values, start, count, squares):
    """Σ values[i] (Σ values[i]² with squares) over values[start : start+count], in 8
    interleaved partial sums added in a fixed order: it vectorises and gives fixed bits."""
    v = values[start : start + count]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = count - count % 8
    for i in range(0, stop, 8):
        s0 += _term(v[i], squares)
        s1 += _term(v[i + 1], squares)
        s2 += _term(v[i + 2], squares)
        s3 += _term(v[i + 3], squares)
        s4 += _term(v[i + 4], squares)
        s5 += _term(v[i + 5], squares)
        s6 += _term(v[i + 6], squares)
        s7 += _term(v[i + 7], squares)
    for i in range(stop, count):
        s0 += _term(v[i], squares)
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@kernel
def _add(target, t_off, source, s_off, count):
    """target[t_off:][:count] += source[s_off:][:count]."""
    t = target[t_off : t_off + count]
    s = source[s_off : s_off + count]
    for i in range(count):
        t[i] += s[i]


@kernel
def _activate_hidden(params, b_off, zs, acts, start, n_out, batch, code):
    """Hidden block (n_out, B): z += b (per row), a = f(z).

    Sigmoid: a span per row with the bias added on the way, or for a small batch the biases
    first and then σ over the whole block as one span (a scalar tail per row would cost
    more than the extra pass). Other activations: a row at a time
    through local views with the branch outside the loop, which is what lets LLVM vectorise
    them (indexing the whole buffers does not).
    """
    if code == SIGMOID and batch < 8 * lanes_of(zs):  # small batch: one span, few scalar tails
        for j in range(n_out):
            bias = params[b_off + j]
            z_row = zs[start + j * batch : start + (j + 1) * batch]
            for i in range(batch):
                z_row[i] += bias
        count = n_out * batch
        sigmoid_span(zs[start : start + count], acts[start : start + count], count, 0.0)
        return
    if code == SIGMOID:  # large batch: a span per row, the bias added on the way
        for j in range(n_out):
            lo = start + j * batch
            sigmoid_span(zs[lo : lo + batch], acts[lo : lo + batch], batch, params[b_off + j])
        return
    for j in range(n_out):
        bias = params[b_off + j]
        lo = start + j * batch
        z_row = zs[lo : lo + batch]
        a_row = acts[lo : lo + batch]
        for i in range(batch):
            z = z_row[i] + bias
            z_row[i] = z
            a_row[i] = _activate(z, code)


@kernel
def _activate_output(params, b_off, zs, acts, start, n_out, batch):
    """Output block (B, n_out): z += b (per column), a = σ(z)."""
    z_block = zs[start : start + batch * n_out]
    for i in range(batch):
        for j in range(n_out):
            z_block[i * n_out + j] += params[b_off + j]
    sigmoid_span(z_block, acts[start : start + batch * n_out], batch * n_out, 0.0)


@kernel
def _forward(net, buffers, x, panels, thin):
    """forward(); `weighted_sum` of the kernel set chooses each layer's product. With panels (the
    probe set compressed or packed, see structs.Panels) the SIMD set runs the first layer over its
    nonzeros or its used columns only (the other columns must be zero in every row of x); with
    `thin` (SIMD set only) every product on thin_products, by way of buffers.transposes."""
    params, table = net.params, net.table
    zs, acts = buffers.zs, buffers.acts
    batch = x.shape[0]
    n_layers = table.shape[0]
    prev, prev_off, prev_rows = x.reshape(x.size), I0, NO  # x is aᵀ: (n_0, B) by columns
    offset = I0
    for layer in range(n_layers):
        w_off, b_off, n_out, n_in, residual = table[layer]
        hidden = layer < n_layers - 1
        weighted_sum(params, layer, hidden, w_off, n_out, n_in, prev, prev_off, prev_rows, batch, buffers, offset,
                     panels, thin)
        if hidden:
            _activate_hidden(params, b_off, zs, acts, offset, n_out, batch, net.act_code)
            if residual:  # the previous block is hidden too, same width and layout
                _add(acts, offset, acts, offset - n_out * batch, n_out * batch)
        else:
            _activate_output(params, b_off, zs, acts, offset, n_out, batch)
        prev, prev_off, prev_rows = acts, offset, hidden
        offset += batch * n_out
    return offset - batch * table[n_layers - 1, N_OUT]


# forward, backward, probe_gradient and count_correct are plain Python calling the jitted
# _forward and _backprop: a jitted wrapper would have LLVM optimise their inlined bodies
# once more each (probe_gradient alone cost seconds of cold compile), for a call that runs
# once per probe or per test chunk.

def forward(net, buffers, x):
    """z^l = W^l a^{l-1} + b^l, a^l = f(z^l) (+ a^{l-1} on a skip); output layer sigmoid.

    Returns where the output block starts in buffers.acts; that block is (B, n_L).
    """
    return _forward(net, buffers, x, no_panels(net.params.dtype), NO)


@kernel
def output_cost(acts, out_start, y, cost_code):
    """Mean cost over the batch (no L2 term): cross-entropy or ½‖a − y‖².

    Cross-entropy through the kernel set's cross_entropy_sum: a fixed order, so fixed bits.
    """
    batch, n_out = y.shape
    count = batch * n_out
    out = acts[out_start : out_start + count]
    targets = y.reshape(count)
    if cost_code == QUADRATIC:
        total = 0.0
        for i in range(count):
            total += 0.5 * (out[i] - targets[i]) * (out[i] - targets[i])
        return total / batch
    return -cross_entropy_sum(out, targets, count) / batch


@kernel
def _hidden_delta(zs, acts, deltas, grad_a, start, count, code, residual):
    """δ = ∂C/∂a ⊙ f'(z) over a hidden block; f' from the stored a where a = f(z)."""
    z = zs[start : start + count]
    a = acts[start : start + count]
    d = deltas[start : start + count]
    g = grad_a[start : start + count]
    if code == SIGMOID and not residual:
        for i in range(count):
            d[i] = g[i] * (a[i] * (1.0 - a[i]))
    elif code == TANH and not residual:
        for i in range(count):
            d[i] = g[i] * (1.0 - a[i] * a[i])
    elif code == SIGMOID:
        for i in range(count):
            d[i] = g[i] * _derivative(z[i], SIGMOID)
    else:
        for i in range(count):
            d[i] = g[i] * _derivative(z[i], code)


@kernel
def _backprop(net, buffers, x, y, panels, thin, step, decay):
    """Backprop after `forward`. step = 0: buffers.grads ← mean ∂C/∂params over the batch.
    step > 0: apply W ← decay·W − step·∂C/∂W, b ← b − step·∂C/∂b in place instead (fused),
    each layer's W only after it has carried δ down (grads untouched). The kernel set's
    back_product and weight_product choose each product; `thin` and `panels` as in _forward (the
    unfused ∂C/∂W, with --clip, stays on BLAS).
    """
    params, table = net.params, net.table
    zs, acts, deltas, grad_acts, grads = buffers.zs, buffers.acts, buffers.deltas, buffers.grad_acts, buffers.grads
    fused = step != 0.0
    batch = x.shape[0]
    n_layers = table.shape[0]
    inv_batch = 1.0 / batch
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    offset = I0  # start of the output block: Σ_{l<L} B·n_l
    for layer in range(n_layers - 1):
        offset += batch * table[layer, N_OUT]
    n_out = table[n_layers - 1, N_OUT]
    a_out = acts[offset : offset + batch * n_out]  # δ^L, (B, n_L) like y
    d_out = deltas[offset : offset + batch * n_out]
    if net.cost_code == QUADRATIC:
        for i in range(batch * n_out):
            d_out[i] = (a_out[i] - yf[i]) * (a_out[i] * (1.0 - a_out[i]))
    else:
        for i in range(batch * n_out):
            d_out[i] = a_out[i] - yf[i]
    for layer in range(n_layers - 1, -1, -1):
        w_off, b_off, n_out, n_in, residual = table[layer]
        rows = layer < n_layers - 1  # this block is hidden: (n_out, B)
        # ∂C/∂b = mean over the batch of δ
        if rows:
            for j in range(n_out):
                g = _sum(deltas, offset + j * batch, batch, NO) * inv_batch
                if fused:
                    params[b_off + j] -= step * g
                else:
                    grads[b_off + j] = g
        else:
            col = np.zeros(n_out, dtype=np.float64)
            for i in range(batch):
                for j in range(n_out):
                    col[j] += deltas[offset + i * n_out + j]
            for j in range(n_out):
                if fused:
                    params[b_off + j] -= step * (col[j] * inv_batch)
                else:
                    grads[b_off + j] = col[j] * inv_batch
        prev = offset - batch * n_in
        if layer > 0:
            # ∂C/∂a^{l-1} = W^lᵀ δ^l (+ ∂C/∂a^l through the skip), with W^l not yet updated;
            # kept in grad_acts only when the layer below has a skip and will need it.
            keep = table[layer - 1, RESIDUAL] != 0
            target = grad_acts if keep else deltas
            back_product(params, w_off, n_out, n_in, deltas, offset, batch, rows, target, prev, buffers, thin)
            if residual:
                _add(target, prev, grad_acts, offset, n_in * batch)
            _hidden_delta(zs, acts, deltas, target, prev, n_in * batch, net.act_code, keep)
        # ∂C/∂W = δ a^{l-1}ᵀ / B
        if layer == 0:
            a_prev, a_off, a_rows = xf, I0, NO
        else:
            a_prev, a_off, a_rows = acts, prev, YES
        weight_product(params, grads, layer, rows, w_off, n_out, n_in, deltas, offset, batch, a_prev, a_off, a_rows,
                       xf, buffers, panels, thin, fused, -step * inv_batch if fused else inv_batch, decay)
        offset = prev


def backward(net, buffers, x, y):
    """Backprop after `forward`: buffers.grads = mean ∂C/∂params over the batch (no L2).

    δ^L = a − y (cross-entropy) or (a − y)σ'(z^L); δ^l = (W^{l+1}ᵀ δ^{l+1} + skip) ⊙ f'(z^l);
    ∂C/∂b^l = mean_x δ^l, ∂C/∂W^l = δ^l a^{l-1}ᵀ / B. buffers.deltas keeps every δ^l
    (hidden blocks (n_l, B), the output block (B, n_L)).
    """
    _backprop(net, buffers, x, y, no_panels(net.params.dtype), NO, 0.0, 1.0)


def probe_gradient(net, buffers, x, y, panels: Panels):
    """forward then backward on a fixed batch (the probe set), kept compressed or packed.

    panels: structs.Panels of x, with buffers.panel_scratch of panels.scratch_size() (packed) or
    sparse.scratch_size() (compressed) elements; empty panels fall back to BLAS over every column.
    Returns forward's output start.
    """
    out_start = probe_forward(net, buffers, x, panels)
    _backprop(*probe_backward_arguments(net, buffers, x, y, panels))
    return out_start


def probe_forward(net, buffers, x, panels: Panels):
    """probe_gradient's forward half; returns the output's start."""
    return _forward(net, buffers, x, panels, NO)


def probe_backward_arguments(net, buffers, x, y, panels: Panels) -> tuple:
    """What probe_gradient passes _backprop (the gradient, no update): the warm-up compiles
    _backprop for exactly these in a second process (train/warmup.py)."""
    return net, buffers, x, y, panels, NO, 0.0, 1.0


@kernel
def update(net, buffers, hyper):
    """W ← (1 − ηλ/n)W − η∂C/∂W, b ← b − η∂C/∂b with buffers.grads; the gradient first scaled
    to global norm ≤ clip if clip > 0."""
    params, table, grads = net.params, net.table, buffers.grads
    scale = 1.0
    if hyper.clip > 0.0:
        norm = math.sqrt(_sum(grads, I0, grads.shape[0], YES))
        if norm > hyper.clip:
            scale = hyper.clip / norm
    step = hyper.eta * scale
    decay = 1.0 - hyper.eta * hyper.lmbda / hyper.n_train
    for layer in range(table.shape[0]):
        w_off, b_off, n_out, n_in, _ = table[layer]
        w = params[w_off : w_off + n_out * n_in]
        g = grads[w_off : w_off + n_out * n_in]
        for k in range(n_out * n_in):
            w[k] = decay * w[k] - step * g[k]
        for k in range(b_off, b_off + n_out):
            params[k] -= step * grads[k]


@kernel
def probe_summary(net, buffers, y, out_start, l2_scale):
    """After probe_gradient: the cost with its L2 term; buffers.speeds[l] = ‖∂C/∂b^l‖ for every
    hidden layer."""
    table, grads = net.table, buffers.grads
    for layer in range(table.shape[0] - 1):
        buffers.speeds[layer] = math.sqrt(_sum(grads, table[layer, B_OFF], table[layer, N_OUT], YES))
    cost = output_cost(buffers.acts, out_start, y, net.cost_code)
    return cost + l2_scale * weight_square_sum(net.params, table)


@kernel
def weight_square_sum(params, table):
    """Σ‖W^l‖², for the L2 term of the cost."""
    total = 0.0
    for layer in range(table.shape[0]):
        w_off, _, n_out, n_in, _ = table[layer]
        total += _sum(params, w_off, n_out * n_in, YES)
    return total


@kernel
def sgd_steps(net, buffers, hyper, train_x, train_y, order, first_batch, n_batches):
    """Mini-batch SGD over batches first_batch .. first_batch+n_batches−1 of `order`.

    Every product runs on thin_products' kernels when buffers.transposes is not empty (needs a
    SIMD target; the Trainer checks), else on BLAS. The last batch of an epoch may be short, as
    in network2. Without clipping the update is fused into backprop (see _backprop); with it,
    the whole gradient comes first. Returns False at the first non-finite parameter (the net
    diverged), True otherwise.
    """
    params, xb, yb = net.params, buffers.xb, buffers.yb
    batch_size = hyper.batch_size
    n_train = order.shape[0]
    n_in = train_x.shape[1]
    n_out = train_y.shape[1]
    decay = 1.0 - hyper.eta * hyper.lmbda / hyper.n_train
    thin = buffers.transposes.size > 0
    fused = hyper.clip <= 0.0
    empty, no_index = np.empty(0, dtype=params.dtype), np.empty(0, dtype=np.int64)
    nothing = Compressed(np.zeros(1, dtype=np.int64), no_index, empty)
    panels = Panels(no_index, empty, empty, nothing, nothing)  # no_panels, which numba cannot call
    for batch_index in range(first_batch, first_batch + n_batches):
        start = batch_index * batch_size
        stop = min(start + batch_size, n_train)
        size = stop - start
        xv = xb[: size * n_in].reshape(size, n_in)
        yv = yb[: size * n_out].reshape(size, n_out)
        for i in range(size):  # element loops: a slice assignment drags in numba's string code
            row = order[start + i]
            for k in range(n_in):
                xb[i * n_in + k] = train_x[row, k]
            for k in range(n_out):
                yb[i * n_out + k] = train_y[row, k]
        _forward(net, buffers, xv, panels, thin)
        if fused:
            _backprop(net, buffers, xv, yv, panels, thin, hyper.eta, decay)
        else:
            _backprop(net, buffers, xv, yv, panels, thin, 0.0, 1.0)
            update(net, buffers, hyper)
    for k in range(params.shape[0]):
        if not math.isfinite(params[k]):
            return False
    return True


def count_correct(net, buffers, x, labels):
    """How many rows of x the net classifies as their label (argmax of the output, first on ties)."""
    out_start = forward(net, buffers, x)
    batch, n_out = x.shape[0], int(net.table[-1, N_OUT])
    out = buffers.acts[out_start : out_start + batch * n_out].reshape(batch, n_out)
    return int(np.count_nonzero(np.argmax(out, axis=1) == labels))
