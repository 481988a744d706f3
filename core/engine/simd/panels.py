"""A register-blocked product for the first layer on the probe set, over packed copies.

The first layer's two products, Z¹ = W¹xᵀ (30×784 by 784×1000) and ∂C/∂W¹ =
δ¹x (30×1000 by 1000×784), are 85 % of a full-batch step's FLOPs and too skinny
for BLAS. `gemm_panels` keeps a block of C of TILE_ROWS rows by two vectors in registers
(10 × 16 doubles in 20 registers on AVX-512) and streams A and B from packed copies: A in
tiles of TILE_ROWS rows, B in panels two vectors wide, both laid out k-major so every load
is sequential. The probe set never
changes, so its two packings are made once (`pack_panels`). It needs a SIMD target
(simd.simd_available); elsewhere the engine stays on BLAS.
"""

from __future__ import annotations

import numpy as np

from vgrad.core.engine.jit import kernel
from vgrad.core.engine.simd.lanes import sload, vfma, vlanes, vload, vstore, vzero
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
    lanes = vlanes(c)
    width = 2 * lanes
    for p in range((n + width - 1) // width):
        n0 = p * width
        cols = min(width, n - n0)
        b_base = p * k_dim * width
        for t in range((m + TILE_ROWS - 1) // TILE_ROWS):
            a_base = t * k_dim * TILE_ROWS
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = vzero(c)
            d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = d8 = d9 = vzero(c)
            for k in range(k_dim):
                bq = b_base + k * width
                x = vload(b_panels, bq)
                y = vload(b_panels, bq + lanes)
                aq = a_base + k * TILE_ROWS
                # unrolled on purpose, row by row: one named accumulator per vector register
                s = sload(a_tiles, aq)
                c0 = vfma(s, x, c0)
                d0 = vfma(s, y, d0)
                s = sload(a_tiles, aq + 1)
                c1 = vfma(s, x, c1)
                d1 = vfma(s, y, d1)
                s = sload(a_tiles, aq + 2)
                c2 = vfma(s, x, c2)
                d2 = vfma(s, y, d2)
                s = sload(a_tiles, aq + 3)
                c3 = vfma(s, x, c3)
                d3 = vfma(s, y, d3)
                s = sload(a_tiles, aq + 4)
                c4 = vfma(s, x, c4)
                d4 = vfma(s, y, d4)
                if TILE_ROWS == 10:  # a compile-time constant: the 5-row block has no rows 5-9
                    s = sload(a_tiles, aq + 5)
                    c5 = vfma(s, x, c5)
                    d5 = vfma(s, y, d5)
                    s = sload(a_tiles, aq + 6)
                    c6 = vfma(s, x, c6)
                    d6 = vfma(s, y, d6)
                    s = sload(a_tiles, aq + 7)
                    c7 = vfma(s, x, c7)
                    d7 = vfma(s, y, d7)
                    s = sload(a_tiles, aq + 8)
                    c8 = vfma(s, x, c8)
                    d8 = vfma(s, y, d8)
                    s = sload(a_tiles, aq + 9)
                    c9 = vfma(s, x, c9)
                    d9 = vfma(s, y, d9)
            # stores unrolled with the accumulators, on purpose: one named register each
            vstore(block, 0, c0)
            vstore(block, lanes, d0)
            vstore(block, width, c1)
            vstore(block, width + lanes, d1)
            vstore(block, 2 * width, c2)
            vstore(block, 2 * width + lanes, d2)
            vstore(block, 3 * width, c3)
            vstore(block, 3 * width + lanes, d3)
            vstore(block, 4 * width, c4)
            vstore(block, 4 * width + lanes, d4)
            if TILE_ROWS == 10:
                vstore(block, 5 * width, c5)
                vstore(block, 5 * width + lanes, d5)
                vstore(block, 6 * width, c6)
                vstore(block, 6 * width + lanes, d6)
                vstore(block, 7 * width, c7)
                vstore(block, 7 * width + lanes, d7)
                vstore(block, 8 * width, c8)
                vstore(block, 8 * width + lanes, d8)
                vstore(block, 9 * width, c9)
                vstore(block, 9 * width + lanes, d9)
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

