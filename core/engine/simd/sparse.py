"""The first layer on a sparse probe set: only the nonzero pixels are multiplied.

Four in five pixels of an MNIST image are zero. On the probe set the first layer's two
products, Z¹ = W¹xᵀ and ∂C/∂W¹ = δ¹x / B, then skip every zero: z¹_·i = Σ_k x_ik W¹_·k over
the nonzero x_ik of image i (its row of x in compressed rows), and ∂C/∂W¹_·k = Σ_i x_ik δ¹_·i / B
over the images where pixel k is nonzero (its column in compressed columns). `sparse_block`
keeps a block of up to SPARSE_COLUMNS outputs in registers and adds one scaled row of a dense
operand per nonzero. The terms left out are exact zeros and the others are added in the same
order by fused multiply-adds, so the result has the same bits as panels.gemm_panels' dense
product (for finite W¹ and δ¹).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, register_jitable

from vgrad.core.engine.jit import I0, kernel
from vgrad.core.engine.simd.lanes import LANES, Vec, broadcast, element_pointer, fma_function, vlanes
from vgrad.core.engine.simd.panels import kept_loop
from vgrad.core.engine.simd.target import REGISTERS, VECTOR_BITS
from vgrad.core.engine.structs import Compressed

SPARSE_COLUMNS = 32   # outputs per register block at most: the book's 30 neurons in one (two on SSE in float64)
# The largest share of nonzeros among the probe set's used pixels at which the sparse products
# run: a nonzero costs sparse_product about three times what an entry costs gemm_panels.
SPARSE_DENSITY = 0.3


@register_jitable
def block_vectors(lanes: int) -> int:
    """Vectors per register block for vectors of `lanes`: SPARSE_COLUMNS wide, at most half the
    registers (the others hold the broadcast nonzero)."""
    return max(1, min(SPARSE_COLUMNS // lanes, REGISTERS // 2))


def block_width(dtype) -> int:
    """Outputs per register block for a numpy dtype."""
    lanes = VECTOR_BITS // (8 * np.dtype(dtype).itemsize)
    return block_vectors(lanes) * lanes


@register_jitable
def whole_blocks(count: int, block: int) -> int:
    """count rounded up to a multiple of block."""
    return (count + block - 1) // block * block


def padded_width(n_out: int, dtype) -> int:
    """n_out rounded up to whole register blocks: the row width of sparse_product's dense operand."""
    return whole_blocks(n_out, block_width(dtype))


def scratch_size(n_out: int, n_inputs: int, batch: int, dtype) -> int:
    """Elements of buffers.panel_scratch for the sparse first layer n_inputs → n_out (split_scratch)."""
    return block_width(dtype) + max(n_inputs, batch) * padded_width(n_out, dtype)


def compress(matrix: np.ndarray, dtype) -> Compressed:
    """matrix (2-D) by rows, its zeros left out."""
    rows, columns = np.nonzero(matrix)
    starts = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=starts[1:])
    return Compressed(starts=starts, index=columns.astype(np.int64),
                      values=np.ascontiguousarray(matrix[rows, columns], dtype=dtype))


@intrinsic
def sparse_block(typingctx, values, index, start, end, b, b_row, b_col, out, out_base):
    """out[out_base : out_base + width] = Σ_{start ≤ p < end} values[p] · b[index[p]·b_row + b_col :][:width],
    width = block_width: one block of outputs kept in registers while the nonzeros stream by."""
    vec = Vec(out.dtype, LANES[out.dtype])
    count = block_vectors(vec.lanes)

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(vec)
        i64 = ir.IntType(64)
        align = out.dtype.bitwidth // 8

        def argument(position):
            return context.cast(builder, args[position], sig.args[position], types.int64)

        def vector_at(pointer, offset):
            return builder.bitcast(builder.gep(pointer, [offset], inbounds=True), vty.as_pointer())

        value_at = element_pointer(context, builder, sig.args[0], args[0], ir.Constant(i64, 0))
        index_at = element_pointer(context, builder, sig.args[1], args[1], ir.Constant(i64, 0))
        first, last, b_row, b_col = argument(2), argument(3), argument(5), argument(6)
        b_at = element_pointer(context, builder, sig.args[4], args[4], b_col)
        out_at = element_pointer(context, builder, sig.args[7], args[7], argument(8))
        fma = fma_function(builder, vty)

        def step(p, accumulators):
            spread = broadcast(builder, vty, builder.load(builder.gep(value_at, [p], inbounds=True)))
            row = builder.mul(builder.load(builder.gep(index_at, [p], inbounds=True)), b_row)
            parts = [builder.load(vector_at(b_at, builder.add(row, ir.Constant(i64, v * vty.count))), align=align)
                     for v in range(count)]
            return [builder.call(fma, [spread, part, accumulator]) for part, accumulator in zip(parts, accumulators)]

        results = kept_loop(builder, first, last, count, vty, step, "sparse")
        for v, result in enumerate(results):
            builder.store(result, vector_at(out_at, ir.Constant(i64, v * vty.count)), align=align)
        return context.get_dummy_value()
    return types.none(values, index, start, end, b, b_row, b_col, out, out_base), codegen


@kernel
def sparse_product(m, n, a, b, b_row, alpha, c, c_off, c_row, c_col, block):
    """C[i, j] ← α Σ_p A[i, p] B[p, j] for i < m, j < n: A compressed by rows, B dense (row p
    at b[p·b_row:], b_row a multiple of block_width, its padding finite), C[i, j] at
    c[c_off + i·c_row + j·c_col]. `block` holds one block of outputs (block_width elements).
    """
    width = block.shape[0]
    for j0 in range(0, n, width):
        for i in range(m):
            sparse_block(a.values, a.index, a.starts[i], a.starts[i + 1], b, b_row, j0, block, I0)
            row = c_off + i * c_row
            for j in range(min(width, n - j0)):
                c[row + (j0 + j) * c_col] = alpha * block[j]


@kernel
def pack_weight_rows(params, w_off, n_in, n_out, inputs, packed, width):
    """Row k of packed (width apart) ← column k of W¹ (n_out × n_in at params[w_off:]), zero-padded,
    for the input columns in `inputs` (the others are never read)."""
    for k in inputs:
        row = k * width
        for j in range(n_out):
            packed[row + j] = params[w_off + j * n_in + k]
        for j in range(n_out, width):
            packed[row + j] = 0.0


@kernel
def pack_delta_rows(deltas, offset, batch, n_out, packed, width):
    """Row i of packed (width apart) ← δ¹ of image i (the block (n_out, batch) at deltas[offset:]),
    zero-padded."""
    for i in range(batch):
        row = i * width
        for j in range(width):
            packed[row + j] = deltas[offset + j * batch + i] if j < n_out else 0.0


@kernel
def split_scratch(panel_scratch, n_out, k_max):
    """buffers.panel_scratch as sparse_product uses it: one block of outputs, then the dense
    operand (k_max rows, n_out padded to whole blocks), and that row width."""
    lanes = vlanes(panel_scratch)
    block = block_vectors(lanes) * lanes
    width = whole_blocks(n_out, block)
    return panel_scratch[:block], panel_scratch[block : block + k_max * width], width
