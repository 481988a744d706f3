"""A vector type for numba, as wide as numba's target, and the few operations the
hand-written kernels need.

Each intrinsic emits one LLVM vector instruction (load, store, fused multiply-add,
ordered sum), so a kernel written with them keeps its accumulators in registers and
gets the same bits on every run. The width follows target.VECTOR_BITS: 512 on AVX-512
(8 doubles or 16 floats), 256 on AVX2, 128 on NEON or SSE; `simd_available` says
whether the target has the fused multiply-add the kernels are built on.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

from vgrad.core.engine.numba_private import get_or_insert_function
from vgrad.core.engine.simd.target import PATH, VECTOR_BITS


class Vec(types.Type):
    """One SIMD register of a float dtype: an LLVM <lanes x dtype>."""

    def __init__(self, dtype, lanes):
        self.dtype, self.lanes = dtype, lanes
        super().__init__(name=f"Vec({dtype}x{lanes})")


@register_model(Vec)
class VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.lanes))


LANES = {types.float64: VECTOR_BITS // 64, types.float32: VECTOR_BITS // 32}


def simd_available() -> bool:
    """True when numba's target has a SIMD path (target.PATH): vectors with fused multiply-add."""
    return PATH is not None


def element_pointer(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


def fma_function(builder, vty):
    """llvm.fma for the vector type vty (one fused multiply-add per lane)."""
    bits = 64 if isinstance(vty.element, ir.DoubleType) else 32
    return get_or_insert_function(builder.module, ir.FunctionType(vty, [vty, vty, vty]),
                                          f"llvm.fma.v{vty.count}f{bits}")


def broadcast(builder, vty, value):
    """The scalar `value` in every lane of a vector of type vty (float or integer)."""
    zero = ir.Constant(vty, None)
    splat = ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count)
    return builder.shuffle_vector(builder.insert_element(zero, value, ir.Constant(ir.IntType(32), 0)), zero, splat)


@intrinsic
def vload(typingctx, array, index):
    """The vector at array[index : index + lanes] (unaligned load)."""
    vec = Vec(array.dtype, LANES[array.dtype])

    def codegen(context, builder, sig, args):
        pointer = element_pointer(context, builder, sig.args[0], *args)
        return builder.load(builder.bitcast(pointer, context.get_value_type(vec).as_pointer()),
                            align=array.dtype.bitwidth // 8)
    return vec(array, index), codegen


@intrinsic
def vstore(typingctx, array, index, value):
    """array[index : index + lanes] = value (unaligned store)."""
    def codegen(context, builder, sig, args):
        pointer = element_pointer(context, builder, sig.args[0], args[0], args[1])
        builder.store(args[2], builder.bitcast(pointer, args[2].type.as_pointer()),
                      align=array.dtype.bitwidth // 8)
        return context.get_dummy_value()
    return types.none(array, index, value), codegen


@intrinsic
def sload(typingctx, array, index):
    """array[index] without numba's negative-index wraparound (keeps the inner loop lean)."""
    def codegen(context, builder, sig, args):
        return builder.load(element_pointer(context, builder, sig.args[0], *args))
    return array.dtype(array, index), codegen


def _zeros(vec, array):
    """Signature and codegen of an intrinsic that returns the all-zero vector of type vec."""
    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vec), None)
    return vec(array), codegen


@intrinsic
def vzero(typingctx, array):
    """A zero vector of the array's dtype."""
    return _zeros(Vec(array.dtype, LANES[array.dtype]), array)


@intrinsic
def vlanes(typingctx, array):
    lanes = LANES[array.dtype]

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, lanes)
    return types.intp(array), codegen


@intrinsic
def vfma(typingctx, scalar, vector, acc):
    """acc + scalar·vector in every lane, one fused multiply-add (llvm.fma)."""
    def codegen(context, builder, sig, args):
        vty = args[2].type
        spread = broadcast(builder, vty, context.cast(builder, args[0], sig.args[0], acc.dtype))
        return builder.call(fma_function(builder, vty), [spread, args[1], args[2]])
    return acc(scalar, vector, acc), codegen


@intrinsic
def vvfma(typingctx, a, b, acc):
    """acc + a·b lane by lane, one fused multiply-add (llvm.fma)."""
    def codegen(context, builder, sig, args):
        return builder.call(fma_function(builder, args[2].type), [args[0], args[1], args[2]])
    return acc(a, b, acc), codegen


@intrinsic
def vsum(typingctx, vector):
    """The lanes of a vector added in order, lane 0 first (an ordered reduction: fixed bits)."""
    def codegen(context, builder, sig, args):
        vty = args[0].type
        bits = 64 if isinstance(vty.element, ir.DoubleType) else 32
        reduce = get_or_insert_function(
            builder.module, ir.FunctionType(vty.element, [vty.element, vty]),
            f"llvm.vector.reduce.fadd.v{vty.count}f{bits}")
        return builder.call(reduce, [ir.Constant(vty.element, -0.0), args[0]])
    return vector.dtype(vector), codegen


@intrinsic
def vzero64(typingctx, array):
    """A zero vector of float64 with as many lanes as the array's dtype has per vector."""
    return _zeros(Vec(types.float64, LANES[array.dtype]), array)



def _first_lanes(builder, vty, count):
    """The mask <lane < count> for a vector type (all false when count ≤ 0)."""
    lanes = ir.Constant(ir.VectorType(ir.IntType(64), vty.count), list(range(vty.count)))
    return builder.icmp_signed("<", lanes, broadcast(builder, lanes.type, count))


def _masked(builder, vty, what):
    bits = 64 if isinstance(vty.element, ir.DoubleType) else 32
    mask = ir.VectorType(ir.IntType(1), vty.count)
    if what == "load":
        signature = ir.FunctionType(vty, [vty.as_pointer(), ir.IntType(32), mask, vty])
    else:
        signature = ir.FunctionType(ir.VoidType(), [vty, vty.as_pointer(), ir.IntType(32), mask])
    return get_or_insert_function(builder.module, signature, f"llvm.masked.{what}.v{vty.count}f{bits}.p0")


@intrinsic
def vload_first(typingctx, array, index, count):
    """array[index : index + count] in the first `count` lanes, zeros after; nothing past is read."""
    vec = Vec(array.dtype, LANES[array.dtype])

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(vec)
        pointer = builder.bitcast(element_pointer(context, builder, sig.args[0], args[0], args[1]),
                                  vty.as_pointer())
        mask = _first_lanes(builder, vty, context.cast(builder, args[2], sig.args[2], types.int64))
        align = ir.Constant(ir.IntType(32), array.dtype.bitwidth // 8)
        return builder.call(_masked(builder, vty, "load"), [pointer, align, mask, ir.Constant(vty, None)])
    return vec(array, index, count), codegen


@intrinsic
def vstore_first(typingctx, array, index, value, count):
    """array[index : index + count] = the first `count` lanes of value; nothing past is written."""
    def codegen(context, builder, sig, args):
        vty = args[2].type
        pointer = builder.bitcast(element_pointer(context, builder, sig.args[0], args[0], args[1]),
                                  vty.as_pointer())
        mask = _first_lanes(builder, vty, context.cast(builder, args[3], sig.args[3], types.int64))
        align = ir.Constant(ir.IntType(32), array.dtype.bitwidth // 8)
        builder.call(_masked(builder, vty, "store"), [args[2], pointer, align, mask])
        return context.get_dummy_value()
    return types.none(array, index, value, count), codegen
