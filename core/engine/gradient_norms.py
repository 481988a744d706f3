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
from numba import types
from numba.extending import intrinsic

from vgrad.core.engine.jit import kernel
from vgrad.core.engine.kernel_set import SIMD


@intrinsic
def pointer_at(typingctx, address, like):
    """A pointer to `like`'s dtype at the integer `address`."""
    def codegen(context, builder, sig, args):
        element = context.get_data_type(like.dtype)
        return builder.inttoptr(args[0], element.as_pointer())
    return types.CPointer(like.dtype)(address, like), codegen


if SIMD:
    from vgrad.core.engine.simd.norms import sum_of_squares
else:
    from vgrad.core.engine.portable import sum_of_squares


@kernel
def norms_and_heads(addresses, counts, heads, like, out):
    """out[t] ← ‖g_t‖₂ for the arrays g_t of counts[t] elements of like's dtype at addresses[t];
    then, for each t with heads[t] > 0, its first heads[t] entries, one array after another.
    The caller keeps every array alive through the call."""
    position = addresses.shape[0]
    for t in range(addresses.shape[0]):
        values = numba.carray(pointer_at(addresses[t], like), (counts[t],))
        out[t] = np.sqrt(sum_of_squares(values))
        for k in range(heads[t]):
            out[position] = values[k]
            position += 1
