"""exp, log, σ and the cross-entropy as LLVM IR that vectorises (libm's calls do not).

Each emitter builds the same operations for a scalar or a vector, so vector lanes and
scalar tails give the same bits. Accuracy: exp ≤ 1 ulp, log ≤ 3 ulp, over the whole range
(tests/core/engine/test_vector_math.py holds them to it against long double references, and at
±∞, NaN, overflow, underflow and subnormals). The portable kernel set (portable.py) uses libm's.
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from vgrad.core.engine.activations import CE_EPS
from vgrad.core.engine.numba_private import get_or_insert_function
from vgrad.core.engine.simd.lanes import LANES, Vec, broadcast, element_pointer

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that n·_LN2_HI is exact (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_EXP_MAX = 709.782712893384           # e^x overflows above
_EXP_MIN = -745.1332191019412         # e^x rounds to 0 below
_TAYLOR = [1.0 / math.factorial(i) for i in range(13, -1, -1)]  # 1/13!, …, 1/1!, 1/0!


def _constant(ty, value):
    """A constant of an LLVM scalar type, or of every lane of a vector type."""
    if isinstance(ty, ir.VectorType):
        return ir.Constant(ty, [ir.Constant(ty.element, value)] * ty.count)
    return ir.Constant(ty, value)


def _emit_exp(builder, x):
    """IR for e^x, x a double or a vector of doubles (the same operations either way, so
    vector lanes and scalar tails give the same bits). ≤ 1 ulp over the whole range:

    x = n ln2 + r with |r| ≤ ln2/2; e^r by its Taylor series to r^13 in fused
    multiply-adds (truncation < 5e-18); 2^n written into the exponent bits as two
    factors so results down to 2^-1074 are right; selects for NaN, overflow, underflow.
    """
    ty = x.type
    lanes = ty.count if isinstance(ty, ir.VectorType) else 0
    ity = ir.VectorType(ir.IntType(64), lanes) if lanes else ir.IntType(64)
    suffix = f"v{lanes}f64" if lanes else "f64"

    def call(name, *args):
        fn = get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * len(args)),
                                            f"llvm.{name}.{suffix}")
        return builder.call(fn, args)

    def f(value):
        return _constant(ty, value)

    def pow2(exponent):
        biased = builder.add(exponent, _constant(ity, 1023))
        return builder.bitcast(builder.shl(biased, _constant(ity, 52)), ty)

    n = call("floor", builder.fadd(builder.fmul(x, f(_LOG2E)), f(0.5)))
    r = call("fma", n, f(-_LN2_LO), builder.fsub(x, builder.fmul(n, f(_LN2_HI))))
    p = f(_TAYLOR[0])
    for coefficient in _TAYLOR[1:]:
        p = call("fma", p, r, f(coefficient))
    k = builder.fptosi(n, ity)
    half = builder.ashr(k, _constant(ity, 1))
    y = builder.fmul(builder.fmul(p, pow2(half)), pow2(builder.sub(k, half)))
    y = builder.select(builder.fcmp_ordered("<", x, f(_EXP_MIN)), f(0.0), y)
    y = builder.select(builder.fcmp_ordered(">", x, f(_EXP_MAX)), f(math.inf), y)
    return builder.select(builder.fcmp_unordered("uno", x, x), x, y)


def _emit_sigmoid(builder, z):
    """IR for σ(z) = 1 / (1 + e^{-z}) on a double or a vector of doubles."""
    one = _constant(z.type, 1.0)
    e = _emit_exp(builder, builder.fmul(z, _constant(z.type, -1.0)))
    return builder.fdiv(one, builder.fadd(one, e))


_SQRT2 = math.sqrt(2.0)
_SMALLEST_NORMAL = 2.0**-1022
_TWO_52 = 2.0**52
_ATANH = [1.0 / (2 * k + 1) for k in range(11, -1, -1)]  # 1/23, 1/21, …, 1/3, 1


def _emit_log(builder, x):
    """IR for ln x, x a double or a vector of doubles. ≤ 3 ulp (about 2.7 at worst, for x within a
    factor 2 of 1, where the rounding of s and of e·ln2 + ln m is largest relative to ln x).

    x = 2^e·m with m in [√½, √2); ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, by its
    series to s^23 (truncation < 1e-18); ln x = e·ln2 (split hi/lo) + ln m. A subnormal x is
    scaled by 2^52 first; ln 0 = −∞, ln ∞ = ∞, and a negative x or NaN gives NaN.
    """
    ty = x.type
    lanes = ty.count if isinstance(ty, ir.VectorType) else 0
    ity = ir.VectorType(ir.IntType(64), lanes) if lanes else ir.IntType(64)
    suffix = f"v{lanes}f64" if lanes else "f64"

    def f(value):
        return _constant(ty, value)

    def i(value):
        return _constant(ity, value)

    def fma(a, b, c):
        fn = get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3), f"llvm.fma.{suffix}")
        return builder.call(fn, [a, b, c])

    tiny = builder.fcmp_ordered("<", x, f(_SMALLEST_NORMAL))
    scaled = builder.select(tiny, builder.fmul(x, f(_TWO_52)), x)
    bits = builder.bitcast(scaled, ity)
    e = builder.sub(builder.and_(builder.lshr(bits, i(52)), i(0x7FF)), builder.select(tiny, i(1023 + 52), i(1023)))
    m = builder.bitcast(builder.or_(builder.and_(bits, i(0x000FFFFFFFFFFFFF)), i(0x3FF0000000000000)), ty)
    big = builder.fcmp_ordered(">", m, f(_SQRT2))
    m = builder.select(big, builder.fmul(m, f(0.5)), m)
    e = builder.select(big, builder.add(e, i(1)), e)
    g = builder.fsub(m, f(1.0))
    s = builder.fdiv(g, builder.fadd(g, f(2.0)))
    z = builder.fmul(s, s)
    p = f(_ATANH[0])
    for coefficient in _ATANH[1:]:
        p = fma(p, z, f(coefficient))
    log_m = builder.fmul(builder.fadd(s, s), p)
    ef = builder.sitofp(e, ty)
    y = builder.fadd(builder.fmul(ef, f(_LN2_HI)), fma(ef, f(_LN2_LO), log_m))
    y = builder.select(builder.fcmp_ordered("==", x, f(math.inf)), x, y)
    y = builder.select(builder.fcmp_ordered("==", x, f(0.0)), f(-math.inf), y)
    y = builder.select(builder.fcmp_ordered("<", x, f(0.0)), f(math.nan), y)
    return builder.select(builder.fcmp_unordered("uno", x, x), x, y)


def _emit_cross_entropy(builder, a, t):
    """IR for t·ln max(a, ε) + (1 − t)·ln max(1 − a, ε), doubles or vectors (NaN a gives NaN)."""
    ty = a.type
    eps, one = _constant(ty, CE_EPS), _constant(ty, 1.0)

    def clamp(v):  # max(v, ε) that keeps NaN, as Python's max(v, ε) does
        return builder.select(builder.fcmp_ordered("<", v, eps), eps, v)

    first = builder.fmul(t, _emit_log(builder, clamp(a)))
    second = builder.fmul(builder.fsub(one, t), _emit_log(builder, clamp(builder.fsub(one, a))))
    return builder.fadd(first, second)


@intrinsic
def cross_entropy_lanes(typingctx, acts, y, a_index, y_index, acc):
    """acc + the cross-entropy terms (see _emit_cross_entropy) of one vector of outputs, in float64."""
    def codegen(context, builder, sig, args):
        lanes = LANES[acts.dtype]
        vty = ir.VectorType(context.get_value_type(acts.dtype), lanes)
        wide = ir.VectorType(ir.DoubleType(), lanes)
        align = acts.dtype.bitwidth // 8
        a_ptr = element_pointer(context, builder, sig.args[0], args[0], args[2])
        y_ptr = element_pointer(context, builder, sig.args[1], args[1], args[3])
        a = builder.load(builder.bitcast(a_ptr, vty.as_pointer()), align=align)
        t = builder.load(builder.bitcast(y_ptr, vty.as_pointer()), align=align)
        if acts.dtype != types.float64:
            a, t = builder.fpext(a, wide), builder.fpext(t, wide)
        return builder.fadd(args[4], _emit_cross_entropy(builder, a, t))
    return acc(acts, y, a_index, y_index, acc), codegen


@intrinsic
def cross_entropy_one(typingctx, a, t):
    """The cross-entropy terms of one output, with the same operations as the vector lanes."""
    def codegen(context, builder, sig, args):
        a64 = context.cast(builder, args[0], sig.args[0], types.float64)
        t64 = context.cast(builder, args[1], sig.args[1], types.float64)
        return _emit_cross_entropy(builder, a64, t64)
    return types.float64(a, t), codegen


@intrinsic
def exp(typingctx, x):
    """e^x in float64 (see _emit_exp)."""
    def codegen(context, builder, signature, args):
        return _emit_exp(builder, context.cast(builder, args[0], signature.args[0], types.float64))
    return types.float64(x), codegen


@intrinsic
def log(typingctx, x):
    """ln x in float64 (see _emit_log)."""
    def codegen(context, builder, signature, args):
        return _emit_log(builder, context.cast(builder, args[0], signature.args[0], types.float64))
    return types.float64(x), codegen


@intrinsic
def sigmoid(typingctx, z):
    """σ(z) in float64 with the operations of bias_sigmoid_lanes' lanes (see _emit_sigmoid)."""
    def codegen(context, builder, signature, args):
        return _emit_sigmoid(builder, context.cast(builder, args[0], signature.args[0], types.float64))
    return types.float64(z), codegen


@intrinsic
def bias_sigmoid_lanes(typingctx, zs, acts, index, bias):
    """One vector of lanes at `index`: z += bias (in the array's dtype), a = σ(z) in float64."""
    vec = Vec(zs.dtype, LANES[zs.dtype])

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(vec)
        align = zs.dtype.bitwidth // 8
        z_ptr = builder.bitcast(element_pointer(context, builder, sig.args[0], args[0], args[2]),
                                vty.as_pointer())
        a_ptr = builder.bitcast(element_pointer(context, builder, sig.args[1], args[1], args[2]),
                                vty.as_pointer())
        b = context.cast(builder, args[3], sig.args[3], zs.dtype)
        z = builder.fadd(builder.load(z_ptr, align=align), broadcast(builder, vty, b))
        builder.store(z, z_ptr, align=align)
        wide = ir.VectorType(ir.DoubleType(), vty.count)
        if zs.dtype == types.float64:
            a = _emit_sigmoid(builder, z)
        else:
            a = builder.fptrunc(_emit_sigmoid(builder, builder.fpext(z, wide)), vty)
        builder.store(a, a_ptr, align=align)
        return context.get_dummy_value()
    return types.none(zs, acts, index, bias), codegen

