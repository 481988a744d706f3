"""Norms of many gradients in one compiled pass, read where they lie in memory.

`vgrad.watch` reads every parameter's gradient once per record: on the CPU that is a pass
over all of them, bound by memory, and in Python a view and a dot product per tensor cost
as much again. Here one call sums the squares of every tensor (given by address and length)
and copies the first entries of each bias gradient. float32 squares are summed in float64,
where they can neither overflow nor underflow.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from vgrad.core.engine.jit import kernel
from vgrad.core.engine.simd.lanes import LANES, Vec, element_pointer, vlanes, vsum, vvfma, vzero64


@intrinsic
def pointer_at(typingctx, address, like):
    """A pointer to `like`'s dtype at the integer `address`."""
    def codegen(context, builder, sig, args):
        element = context.get_data_type(like.dtype)
        return builder.inttoptr(args[0], element.as_pointer())
    return types.CPointer(like.dtype)(address, like), codegen


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
def _sum_of_squares(values):
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


@kernel
def norms_and_heads(addresses, counts, heads, like, out):
    """out[t] ← ‖g_t‖₂ for the arrays g_t of counts[t] elements of like's dtype at addresses[t];
    then, for each t with heads[t] > 0, its first heads[t] entries, one array after another.
    The caller keeps every array alive through the call."""
    position = addresses.shape[0]
    for t in range(addresses.shape[0]):
        values = numba.carray(pointer_at(addresses[t], like), (counts[t],))
        out[t] = np.sqrt(_sum_of_squares(values))
        for k in range(heads[t]):
            out[position] = values[k]
            position += 1
