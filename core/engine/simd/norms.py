"""Σ x² of a gradient in SIMD vectors, widened to float64 (gradient_norms.py's inner loop)."""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from vgrad.core.engine.jit import kernel
from vgrad.core.engine.simd.lanes import LANES, Vec, element_pointer, vlanes, vsum, vvfma, vzero64


@intrinsic
def vload_wide(typingctx, array, index):
    """The vector at array[index : index + lanes], widened to float64 (a plain load for float64)."""
    vec = Vec(types.float64, LANES[array.dtype])

    def codegen(context, builder, sig, args):
        narrow = ir.VectorType(context.get_data_type(array.dtype), vec.lanes)
        pointer = builder.bitcast(element_pointer(context, builder, sig.args[0], *args), narrow.as_pointer())
        value = builder.load(pointer, align=array.dtype.bitwidth // 8)
        return value if array.dtype == types.float64 else builder.fpext(value, context.get_value_type(vec))
    return vec(array, index), codegen


@kernel
def sum_of_squares(values):
    """Σ values[i]² in float64: four vector accumulators (independent additions hide each one's
    latency), then the tail, in a fixed order."""
    lanes = vlanes(values)
    step = 4 * lanes
    full = values.shape[0] - values.shape[0] % step
    acc0, acc1, acc2, acc3 = vzero64(values), vzero64(values), vzero64(values), vzero64(values)
    for i in range(0, full, step):
        v0, v1 = vload_wide(values, i), vload_wide(values, i + lanes)
        v2, v3 = vload_wide(values, i + 2 * lanes), vload_wide(values, i + 3 * lanes)
        acc0, acc1 = vvfma(v0, v0, acc0), vvfma(v1, v1, acc1)
        acc2, acc3 = vvfma(v2, v2, acc2), vvfma(v3, v3, acc3)
    total = vsum(acc0) + vsum(acc1) + vsum(acc2) + vsum(acc3)
    for i in range(full, values.shape[0]):
        total += np.float64(values[i]) * np.float64(values[i])
    return total
