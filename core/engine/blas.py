"""BLAS gemm on flat buffers at offsets, called from numba code through numba's own bridge.

numba's `numba_xxgemm` is the SciPy BLAS that np.dot uses; calling it with transpose
flags, leading dimensions, α and β makes no transposed copies and fuses an update into
a product (W ← βW + α δ aᵀ is one call). numba's bridge is not public API
(numba_private.blas_gemm): without it `matmul` is `loop_matmul`, the same product in loops.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from vgrad.core.engine.jit import kernel
from vgrad.core.engine.numba_private import blas_gemm

# C ← α op(A) op(B) + β C, column-major.
_XXGEMM = {dtype: gemm for dtype in (types.float64, types.float32) if (gemm := blas_gemm(dtype)) is not None}
_TRANS, _NOTRANS = ord("t"), ord("n")


def _gemm(transa, transb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc):
    """Typed by the overload below: column-major BLAS gemm on 1-D buffers at offsets."""
    raise NotImplementedError("only callable from numba-compiled code")


@overload(_gemm, jit_options=dict(nogil=True))
def _gemm_impl(transa, transb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc):
    dtype = c.dtype
    if dtype not in _XXGEMM or a.dtype != dtype or b.dtype != dtype:
        return None
    xxgemm = _XXGEMM[dtype]
    kind = ord("d") if dtype == types.float64 else ord("s")

    def impl(transa, transb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc):
        scalars = np.empty(2, dtype=c.dtype)
        scalars[0] = alpha
        scalars[1] = beta
        xxgemm(kind, transa, transb, m, n, k, scalars[0:].ctypes, a[a_off:].ctypes, lda,
               b[b_off:].ctypes, ldb, scalars[1:].ctypes, c[c_off:].ctypes, ldc)
    return impl


@kernel
def blas_matmul(m, n, k, alpha, p, p_off, p_rows, q, q_off, q_rows, beta, c, c_off, c_rows):
    """C (m×n) ← α P (m×k) Q (k×n) + β C, each matrix at buf[off:], stored by rows (C order) if *_rows.

    A matrix stored by rows is its transpose stored by columns, so flipping a flag
    transposes an operand for free.
    """
    if c_rows:  # Cᵀ = Qᵀ Pᵀ, by columns
        _gemm(_NOTRANS if q_rows else _TRANS, _NOTRANS if p_rows else _TRANS, n, m, k, alpha,
              q, q_off, n if q_rows else k, p, p_off, k if p_rows else m, beta, c, c_off, n)
    else:
        _gemm(_TRANS if p_rows else _NOTRANS, _TRANS if q_rows else _NOTRANS, m, n, k, alpha,
              p, p_off, k if p_rows else m, q, q_off, n if q_rows else k, beta, c, c_off, m)


@kernel
def loop_matmul(m, n, k, alpha, p, p_off, p_rows, q, q_off, q_rows, beta, c, c_off, c_rows):
    """blas_matmul's product in plain loops, for a numba without its BLAS bridge."""
    for i in range(m):
        for j in range(n):
            total = 0.0
            for t in range(k):
                a = p[p_off + i * k + t] if p_rows else p[p_off + t * m + i]
                b = q[q_off + t * n + j] if q_rows else q[q_off + j * k + t]
                total += a * b
            at = c_off + i * n + j if c_rows else c_off + j * m + i
            c[at] = alpha * total + (beta * c[at] if beta != 0.0 else 0.0)


matmul = blas_matmul if len(_XXGEMM) == 2 else loop_matmul
