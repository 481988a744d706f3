"""Register-blocked products: the first layer on the probe set over packed copies, and the
hidden layers on a whole batch in place (rows_product).

The first layer's two products, Z¹ = W¹xᵀ (30×784 by 784×1000) and ∂C/∂W¹ =
δ¹x (30×1000 by 1000×784), are 85 % of a full-batch step's FLOPs and too skinny
for BLAS. `gemm_panels` keeps a block of C of TILE_ROWS rows by two vectors in registers
(10 × 16 doubles in 20 registers on AVX-512) and streams A and B from packed copies: A in
tiles of TILE_ROWS rows, B in panels two vectors wide, both laid out k-major so every load
is sequential. The probe set never
changes, so its two packings are made once (`pack_panels`). It belongs to the SIMD
kernel set (products.py); the portable set runs these products on BLAS.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from vgrad.core.engine.jit import I0, I1, kernel
from vgrad.core.engine.simd.lanes import LANES, Vec, broadcast, element_pointer, fma_function, vlanes
from vgrad.core.engine.simd.target import REGISTERS, VECTOR_BITS

# Rows of C per register block: 10 rows of two vectors (20 accumulators) where the target has
# 32 vector registers, 5 (10 accumulators) where it has 16 (AVX2, SSE). With 6 rows LLVM's
# unrolled loop needed more than 16 and kept accumulators on the stack: half the speed on Zen 3.
TILE_ROWS = 10 if REGISTERS == 32 else 5


def panel_width(dtype) -> int:
    """Columns of B per packed panel (two vectors) for a numpy dtype."""
    return 2 * VECTOR_BITS // (8 * np.dtype(dtype).itemsize)


@kernel
def pack_panels(source, packed):
    """B (K×N, any strides) → panels of 2·lanes columns, k-major, zero-padded.

    packed needs ceil(N / width)·width·K elements (width = panel_width(dtype)).
    """
    k_dim, n_dim = source.shape
    width = 2 * vlanes(packed)
    for p in range((n_dim + width - 1) // width):
        base = p * k_dim * width
        for k in range(k_dim):
            row = base + k * width
            for q in range(width):
                col = p * width + q
                packed[row + q] = source[k, col] if col < n_dim else 0.0


@kernel
def pack_tiles(source, offset, row_stride, m, k_dim, packed):
    """A (m×K at source[offset + i·row_stride + k]) → tiles of TILE_ROWS rows, k-major, zero-padded."""
    for t in range((m + TILE_ROWS - 1) // TILE_ROWS):
        base = t * k_dim * TILE_ROWS
        for k in range(k_dim):
            for r in range(TILE_ROWS):
                i = t * TILE_ROWS + r
                packed[base + k * TILE_ROWS + r] = (
                    source[offset + i * row_stride + k] if i < m else 0.0)


@kernel
def pack_weight_tiles(params, w_off, n_in, n_out, inputs, packed):
    """W¹[:, inputs] (n_out × len(inputs)) → tiles of TILE_ROWS rows, k-major, zero-padded."""
    k_dim = inputs.shape[0]
    for t in range((n_out + TILE_ROWS - 1) // TILE_ROWS):
        base = t * k_dim * TILE_ROWS
        for k in range(k_dim):
            column = w_off + inputs[k]
            for r in range(TILE_ROWS):
                i = t * TILE_ROWS + r
                packed[base + k * TILE_ROWS + r] = params[column + i * n_in] if i < n_out else 0.0


@kernel
def gemm_panels(m, n, k_dim, a_tiles, b_panels, alpha, beta, c, c_off, ldc, block, columns):
    """C (m×n, rows ldc apart at c[c_off:]) ← α A B + β C, A and B packed as above.

    `block` holds one TILE_ROWS × width block of C on its way out (≥ TILE_ROWS·width elements). With
    `columns` (non-empty) column q of the product goes to column columns[q] of C.
    """
    width = 2 * vlanes(c)
    for p in range((n + width - 1) // width):
        n0 = p * width
        cols = min(width, n - n0)
        for t in range((m + TILE_ROWS - 1) // TILE_ROWS):
            tile_product(a_tiles, t * k_dim * TILE_ROWS, I1, TILE_ROWS, b_panels, p * k_dim * width, width, k_dim,
                         block, I0, width)
            for r in range(min(TILE_ROWS, m - t * TILE_ROWS)):
                acc = block[r * width : r * width + cols]
                if columns.size > 0:
                    row = c_off + (t * TILE_ROWS + r) * ldc
                    for q in range(cols):
                        index = row + columns[n0 + q]
                        c[index] = alpha * acc[q] + (beta * c[index] if beta != 0.0 else 0.0)
                    continue
                row = c_off + (t * TILE_ROWS + r) * ldc + n0
                out = c[row : row + cols]
                if beta == 0.0:
                    for q in range(cols):
                        out[q] = alpha * acc[q]
                else:
                    for q in range(cols):
                        out[q] = alpha * acc[q] + beta * out[q]


def _kept_as_written(module: ir.Module) -> ir.MDValue:
    """Loop metadata: never unroll this loop, nor vectorise it (its body is vectors already).

    numba optimises a kernel's code once more inside every kernel that calls it, and LLVM
    unrolled this loop again each time: at two or four k-steps its accumulators no longer fit
    the 16 AVX2 registers, and inside _forward the product ran at two thirds of its own speed.
    """
    unroll = module.add_metadata([ir.MetaDataString(module, "llvm.loop.unroll.disable")])
    vectorised = module.add_metadata([ir.MetaDataString(module, "llvm.loop.isvectorized"),
                                      ir.Constant(ir.IntType(32), 1)])
    loop = module.add_metadata([ir.MetaDataString(module, f"vgrad.loop.{len(module.metadata)}"), unroll, vectorised])
    loop.operands = (loop, unroll, vectorised)  # a loop's ID names itself first (LLVM's convention)
    return loop


def kept_loop(builder, first, last, count, vty, body, name):
    """Emit `for i in range(first, last)` carrying `count` vector accumulators from zero, each
    step `body(i, accumulators)` → the new ones, as a loop no later pass reshapes
    (_kept_as_written). Returns the accumulators after it: zeros when the range is empty."""
    zero = ir.Constant(vty, None)
    before = builder.basic_block
    loop = builder.append_basic_block(f"{name}.loop")
    done = builder.append_basic_block(f"{name}.done")
    builder.cbranch(builder.icmp_signed("<", first, last), loop, done)

    builder.position_at_end(loop)
    index = builder.phi(first.type)
    accumulators = [builder.phi(vty) for _ in range(count)]
    summed = body(index, accumulators)
    following = builder.add(index, ir.Constant(first.type, 1))
    latch = builder.cbranch(builder.icmp_signed("<", following, last), loop, done)
    latch.set_metadata("llvm.loop", _kept_as_written(builder.module))
    index.add_incoming(first, before)
    index.add_incoming(following, loop)
    for accumulator, value in zip(accumulators, summed):
        accumulator.add_incoming(zero, before)
        accumulator.add_incoming(value, loop)

    builder.position_at_end(done)
    results = [builder.phi(vty) for _ in summed]
    for result, value in zip(results, summed):
        result.add_incoming(zero, before)
        result.add_incoming(value, loop)
    return results


@intrinsic
def tile_product(typingctx, a, a_base, a_row, a_k, b, b_base, b_k, k_dim, out, out_base, out_row):
    """One register block of C = A B: for r < TILE_ROWS, the two vectors at
    out[out_base + r·out_row] become Σ_k A[r, k] · (the two vectors at b[b_base + k·b_k]),
    where A[r, k] = a[a_base + r·a_row + k·a_k].

    The k loop is emitted here, its 2·TILE_ROWS accumulators in registers, so that no later
    optimisation can reshape it (see _kept_as_written). Zero k: zeros.
    """
    vec = Vec(out.dtype, LANES[out.dtype])
    rows = TILE_ROWS

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(vec)
        i64 = ir.IntType(64)

        def argument(position):
            return context.cast(builder, args[position], sig.args[position], types.int64)

        def constant(value):
            return ir.Constant(i64, value)

        def vector_at(pointer, offset):
            return builder.bitcast(builder.gep(pointer, [offset], inbounds=True), vty.as_pointer())

        align = out.dtype.bitwidth // 8
        a_at = element_pointer(context, builder, sig.args[0], args[0], argument(1))
        a_row, a_k, b_k, k_dim, out_row = argument(2), argument(3), argument(6), argument(7), argument(10)
        a_rows = [builder.gep(a_at, [builder.mul(a_row, constant(r))], inbounds=True) for r in range(rows)]
        b_at = element_pointer(context, builder, sig.args[4], args[4], argument(5))
        out_at = element_pointer(context, builder, sig.args[8], args[8], argument(9))
        fma = fma_function(builder, vty)

        def step(k, accumulators):
            b_offset = builder.mul(k, b_k)
            x = builder.load(vector_at(b_at, b_offset), align=align)
            y = builder.load(vector_at(b_at, builder.add(b_offset, constant(vty.count))), align=align)
            a_offset = builder.mul(k, a_k)
            summed = []
            for r in range(rows):
                spread = broadcast(builder, vty, builder.load(builder.gep(a_rows[r], [a_offset], inbounds=True)))
                summed += [builder.call(fma, [spread, x, accumulators[2 * r]]),
                           builder.call(fma, [spread, y, accumulators[2 * r + 1]])]
            return summed

        results = kept_loop(builder, constant(0), k_dim, 2 * rows, vty, step, "tile")
        for i, result in enumerate(results):
            offset = builder.add(builder.mul(out_row, constant(i // 2)), constant(i % 2 * vty.count))
            builder.store(result, vector_at(out_at, offset), align=align)
        return context.get_dummy_value()
    return types.none(a, a_base, a_row, a_k, b, b_base, b_k, k_dim, out, out_base, out_row), codegen


@kernel
def rows_product(m, n, k_dim, a, a_off, a_row, a_k, b, b_off, ldb, c, c_off, ldc):
    """C ← A B with C (m×n) and B (k×n) stored by rows, ldc and ldb apart, and
    A[i, k] = a[a_off + i·a_row + k·a_k]: a hidden layer's W^l a^{l-1} or W^lᵀ δ^l on a whole batch,
    in place (no packing; BLAS packs each operand first, which dominates at these sizes).

    Needs fits_rows_product(m, n, c): the last block of rows and of columns is moved back to end
    at the edge, overlapping the one before (those entries are written twice, the same bits), so
    nothing outside A, B and C is read or written.
    """
    width = 2 * vlanes(c)
    for p in range(0, n, width):
        n0 = min(p, n - width)
        for t in range(0, m, TILE_ROWS):
            i0 = min(t, m - TILE_ROWS)
            tile_product(a, a_off + i0 * a_row, a_row, a_k, b, b_off + n0, ldb, k_dim, c, c_off + i0 * ldc + n0,
                         ldc)


@kernel
def fits_rows_product(m, n, c):
    """Whether rows_product can write a C of m×n (at least one register block each way)."""
    return m >= TILE_ROWS and n >= 2 * vlanes(c)


@kernel
def split_scratch(panel_scratch, n_hidden, k_max):
    """buffers.panel_scratch: one block of C for gemm_panels, then A's tiles."""
    block = TILE_ROWS * 2 * vlanes(panel_scratch)
    tiles = block + (n_hidden + TILE_ROWS - 1) // TILE_ROWS * TILE_ROWS * k_max
    return panel_scratch[:block], panel_scratch[block:tiles]


def scratch_size(n_hidden: int, n_inputs: int, batch: int, dtype) -> int:
    """Elements of buffers.panel_scratch for a first layer n_inputs → n_hidden."""
    tiles = -(-n_hidden // TILE_ROWS) * TILE_ROWS * max(n_inputs, batch)
    return TILE_ROWS * panel_width(dtype) + tiles


def packed_size(k_dim: int, n_dim: int, dtype) -> int:
    """Elements pack_panels writes for a K×N matrix."""
    width = panel_width(dtype)
    return -(-n_dim // width) * width * k_dim

