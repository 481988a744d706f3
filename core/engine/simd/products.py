"""The SIMD kernel set: which product each layer of a step runs on, σ over a span and the
cross-entropy a vector at a time, all on the hand-written kernels of this folder.

kernels.py takes these names from here, or the same names from portable.py (kernel_set.py
chooses). `self_test` runs every intrinsic once: if it does not compile, nothing here will.
"""

from __future__ import annotations

import numpy as np

from vgrad.core.engine.blas import matmul
from vgrad.core.engine.jit import I0, I1, NO, YES, kernel
from vgrad.core.engine.simd import sparse
from vgrad.core.engine.simd.lanes import (
    sload,
    vfma,
    vlanes,
    vload,
    vload_first,
    vstore,
    vstore_first,
    vsum,
    vvfma,
    vzero,
    vzero64,
)
from vgrad.core.engine.simd.panels import (
    fits_rows_product,
    gemm_panels,
    pack_tiles,
    pack_weight_tiles,
    rows_product,
    split_scratch,
    tile_product,
)
from vgrad.core.engine.simd.thin_products import (
    fused_weight_update,
    layer_backward,
    layer_forward,
    layer_update,
    weighted_inputs,
)
from vgrad.core.engine.simd.vector_math import (
    bias_sigmoid_lanes,
    cross_entropy_lanes,
    cross_entropy_one,
    exp,
    sigmoid,
)

__all__ = ["back_product", "cross_entropy_sum", "cross_entropy_one", "exp", "lanes_of", "sigmoid", "sigmoid_span",
           "weight_product", "weighted_sum"]

lanes_of = vlanes  # lanes per vector of an array's dtype


@kernel
def sigmoid_span(z, a, count, bias):
    """z[:count] += bias, a[:count] = σ(z): whole vectors through bias_sigmoid_lanes, then the
    tail one by one with the same operations (same bits)."""
    lanes = vlanes(z)
    full = count - count % lanes
    for i in range(0, full, lanes):
        bias_sigmoid_lanes(z, a, i, bias)
    for i in range(full, count):
        value = z[i] + bias
        z[i] = value
        a[i] = sigmoid(value)


@kernel
def cross_entropy_sum(out, targets, count):
    """Σ_i t_i ln a_i + (1 − t_i) ln(1 − a_i) over out[:count], a vector at a time with our own
    log (libm's does not vectorise here), summed lane by lane, then the lanes in order: a fixed
    order, so fixed bits."""
    lanes = vlanes(out)
    full = count - count % lanes
    acc = vzero64(out)
    for i in range(0, full, lanes):
        acc = cross_entropy_lanes(out, targets, i, i, acc)
    total = vsum(acc)
    for i in range(full, count):
        total += cross_entropy_one(out[i], targets[i])
    return total


@kernel
def weighted_sum(params, layer, hidden, w_off, n_out, n_in, prev, prev_off, prev_rows, batch, buffers, offset,
                 panels, thin):
    """z^l = W^l a^{l-1} (no bias) into buffers.zs[offset:]: the first layer on the probe set over
    its nonzeros (sparse_product) or its packed columns (gemm_panels); with `thin` every layer on
    thin_products; a hidden layer on a whole batch on rows_product; else BLAS."""
    zs, acts = buffers.zs, buffers.acts
    inputs = panels.inputs
    if layer == 0 and hidden and panels.rows.values.size > 0:
        block, packed, width = sparse.split_scratch(buffers.panel_scratch, n_out, n_in)
        sparse.pack_weight_rows(params, w_off, n_in, n_out, inputs, packed, width)
        sparse.sparse_product(batch, n_out, panels.rows, packed, width, 1.0, zs, I0, I1, batch, block)
    elif layer == 0 and hidden and panels.xt_panels.size > 0:
        block, tiles = split_scratch(buffers.panel_scratch, n_out, max(n_in, batch))
        pack_weight_tiles(params, w_off, n_in, n_out, inputs, tiles)
        gemm_panels(n_out, batch, inputs.shape[0], tiles, panels.xt_panels, 1.0, 0.0, zs, I0, batch,
                    block, inputs[:0])
    elif layer == 0 and hidden and thin:
        weighted_inputs(params, w_off, n_in, n_out, prev, batch, zs, I0)
    elif thin and layer > 0:
        layer_forward(params, w_off, n_in, n_out, acts, prev_off, batch, zs, offset, not hidden,
                      buffers.transposes)
    elif layer > 0 and hidden and fits_rows_product(n_out, batch, zs):
        rows_product(n_out, batch, n_in, params, w_off, n_in, I1, acts, prev_off, batch, zs, offset, batch)
    else:
        matmul(n_out, batch, n_in, 1.0, params, w_off, YES, prev, prev_off, prev_rows,
               0.0, zs, offset, hidden)


@kernel
def back_product(params, w_off, n_out, n_in, deltas, offset, batch, rows, target, prev, buffers, thin):
    """∂C/∂a^{l-1} = W^lᵀ δ^l into target[prev:], with W^l not yet updated: thin_products with
    `thin`, rows_product for a hidden δ^l on a whole batch, else BLAS."""
    if thin:
        layer_backward(params, w_off, n_in, n_out, deltas, offset, batch, not rows, target, prev,
                       buffers.transposes)
    elif rows and fits_rows_product(n_in, batch, target):
        rows_product(n_in, batch, n_out, params, w_off, I1, n_in, deltas, offset, batch, target, prev, batch)
    else:
        matmul(n_in, batch, n_out, 1.0, params, w_off, NO, deltas, offset, rows,
               0.0, target, prev, YES)


@kernel
def weight_product(params, grads, layer, rows, w_off, n_out, n_in, deltas, offset, batch, a_prev, a_off, a_rows,
                   xf, buffers, panels, thin, fused, alpha, decay):
    """∂C/∂W^l = α δ^l a^{l-1}ᵀ into grads, or fused: W^l ← decay·W^l + α δ^l a^{l-1}ᵀ in place.
    The first layer on the probe set (not fused) on sparse_product over the pixels' nonzeros, or
    on gemm_panels for panels.inputs (the columns of pixels zero in every image are exactly zero);
    fused with `thin` on thin_products; else BLAS."""
    if layer == 0 and rows and panels.columns.values.size > 0 and not fused:
        block, packed, width = sparse.split_scratch(buffers.panel_scratch, n_out, batch)
        sparse.pack_delta_rows(deltas, I0, batch, n_out, packed, width)
        sparse.sparse_product(n_in, n_out, panels.columns, packed, width, alpha, grads, w_off, I1, n_in, block)
    elif layer == 0 and rows and panels.x_panels.size > 0 and not fused:
        block, tiles = split_scratch(buffers.panel_scratch, n_out, max(n_in, batch))
        pack_tiles(deltas, I0, batch, n_out, batch, tiles)
        grads[w_off : w_off + n_out * n_in] = 0.0  # the columns left out stay exactly zero
        gemm_panels(n_out, panels.inputs.shape[0], batch, tiles, panels.x_panels, alpha, 0.0,
                    grads, w_off, n_in, block, panels.inputs)
    elif fused and layer == 0 and rows and thin:
        fused_weight_update(params, w_off, n_in, n_out, alpha, deltas, offset, xf, batch, decay)
    elif fused and thin and layer > 0:
        layer_update(params, w_off, n_in, n_out, alpha, deltas, offset, batch, not rows,
                     a_prev, a_off, decay, buffers.transposes)
    elif fused:
        matmul(n_out, n_in, batch, alpha, deltas, offset, rows, a_prev, a_off, not a_rows, decay, params, w_off, YES)
    else:
        matmul(n_out, n_in, batch, alpha, deltas, offset, rows, a_prev, a_off, not a_rows, 0.0, grads, w_off, YES)


@kernel
def self_test(values, out):
    """Every intrinsic of this folder once (loads and stores, plain and masked, fused
    multiply-adds, ordered sums, exp, σ, cross-entropy, a register block, a sparse block), on
    `values` (at least 2·SPARSE_COLUMNS + 4 lanes long, in (0, 1)): compiling it is what kernel_set
    tries before choosing this set. Returns a sum of everything computed."""
    lanes = vlanes(values)
    v = vload(values, 0)
    acc = vvfma(v, v, vfma(2.0, v, vzero(values)))
    vstore(out, 0, acc)
    vstore_first(out, lanes, vload_first(values, lanes, 1), 1)
    bias_sigmoid_lanes(out, out, 0, 0.5)
    total = vsum(cross_entropy_lanes(values, values, 0, 0, vzero64(values)))
    total += cross_entropy_one(values[0], values[1]) + sigmoid(values[0]) + exp(values[1]) + sload(values, 1)
    tile_product(values, I0, I0, I1, values, I0, I0, I1, out, I0, I0)
    index = np.zeros(1, dtype=np.int64)
    sparse.sparse_block(values, index, I0, I1, values, I0, I0, out, I0)
    for i in range(out.shape[0]):
        total += out[i]
    return total
