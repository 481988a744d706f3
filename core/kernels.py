"""numba kernels: forward, backward and update of a whole batch, on preallocated buffers.

All kernels are serial and `nogil`, so one Python thread per net runs truly in
parallel. Shapes: x (B, n_0), C order; the z, a, δ and ∂C/∂a buffers hold, for each
layer l = 1..L, a block of B·n_l numbers one after another (flat, Σ n_l · B long);
`table` is NetLayout.table. Activation codes follow activations.CODES; cost codes
activations.COST_CODES.

Inside a block, hidden layers are stored the book's way round, features × batch
(n_l, B), and the output layer batch × features (B, n_L), so `acts` holds the
output exactly as before (forward's return value is where it starts). The
features × batch layout lets BLAS run the big first-layer product as
W (30×784) · xᵀ, ~35 % faster than x · Wᵀ, and keeps every elementwise loop
contiguous and vectorised.

Speed, with the same maths as the reference in net.py:
- matrix products call BLAS dgemm/sgemm directly (numba's `numba_xxgemm`, the
  SciPy BLAS that np.dot uses) with transpose flags, leading dimensions, α and β,
  so no transposed copies are made and the SGD update fuses into the product:
  W ← (1 − ηλ/n)W − (η/B) δ aᵀ is one dgemm with β = 1 − ηλ/n;
- on the fixed probe set (the speed experiment, every s_l measurement) the first
  layer, 85 % of the FLOPs, runs on a register-blocked AVX-512 kernel over a packed
  copy of the images, leaving out the pixels that are zero in all of them
  (`probe_gradient`, see the SIMD section);
- exp and log are our own (range reduction + polynomial + exponent bits, ≤ 1 and
  ≤ 2.2 ulp) so the sigmoid and cross-entropy loops vectorise; libm's do not
  vectorise here and exp alone was half the step's time;
- σ'(z) = a(1 − a) and tanh'(z) = 1 − a² from the stored activations (no exp in
  backward), except on residual layers where a is not f(z);
- sums run in interleaved partial sums in a fixed order (bit-identical runs).
No fastmath anywhere (fused multiply-adds are explicit llvm.fma calls): results are
deterministic for a given machine and BLAS.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import llvmlite.binding as llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model
from numba.np.linalg import _BLAS

SIGMOID, TANH, RELU, LEAKY_RELU, ELU = 0, 1, 2, 3, 4
CROSS_ENTROPY, QUADRATIC = 0, 1
LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
_CE_EPS = 1e-300  # keeps log() finite where a saturates to exactly 0 or 1
W_OFF, B_OFF, N_OUT, N_IN, RESIDUAL = range(5)  # columns of NetLayout.table

_JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
_INLINE = dict(inline="always", **_JIT)
# Constants passed to other jitted functions as these numpy scalars are typed int64 and bool,
# not Literal[int](0) / Literal[bool](True): numba would compile a separate copy of the
# callee for every literal value (that alone cost seconds of cold compile).
_I0 = np.int64(0)
_YES, _NO = np.bool_(True), np.bool_(False)

# ---------------------------------------------------------------------------
# BLAS: C ← α op(A) op(B) + β C, column-major, through numba's own BLAS bridge.

_XXGEMM = {types.float64: _BLAS().numba_xxgemm(types.float64),
           types.float32: _BLAS().numba_xxgemm(types.float32)}
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


@njit(**_JIT)
def _matmul(m, n, k, alpha, p, p_off, p_rows, q, q_off, q_rows, beta, c, c_off, c_rows):
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


# ---------------------------------------------------------------------------
# SIMD: a 512-bit vector type and a register-blocked product for the first layer.
#
# The first layer's two products, Z¹ = W¹xᵀ (30×784 by 784×1000) and ∂C/∂W¹ =
# δ¹x (30×1000 by 1000×784), are 85 % of a full-batch step's FLOPs and too skinny
# for BLAS (≈ 47 GFLOP/s here against 72 square). `_gemm_panels` keeps a 10×16
# block of C in 20 vector registers (10×32 in float32) and streams A and B from
# packed copies: A in tiles of 10 rows, B in panels of 16 columns, both laid out
# k-major so every load is sequential. The probe set never changes, so its two
# packings are made once (`pack_panels`). ≈ 65 GFLOP/s in float64, 140 in float32.
# It needs AVX-512 (32 vector registers); elsewhere the engine stays on BLAS.

class _Vec(types.Type):
    """One SIMD register of a float dtype: an LLVM <lanes x dtype>."""

    def __init__(self, dtype, lanes):
        self.dtype, self.lanes = dtype, lanes
        super().__init__(name=f"Vec({dtype}x{lanes})")


@register_model(_Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.lanes))


_LANES = {types.float64: 8, types.float32: 16}  # 512 bits
TILE_ROWS = 10  # rows of C per register block


def panel_width(dtype) -> int:
    """Columns of B per packed panel (two vectors) for a numpy dtype."""
    return 16 if np.dtype(dtype) == np.float64 else 32


@functools.lru_cache(maxsize=1)
def simd_available() -> bool:
    """True when the host has the 32 vector registers `_gemm_panels` is written for."""
    features = llvm.get_host_cpu_features()
    return bool(features.get("avx512f", False))


def _element_pointer(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


@intrinsic
def _vload(typingctx, array, index):
    """The vector at array[index : index + lanes] (unaligned load)."""
    vec = _Vec(array.dtype, _LANES[array.dtype])

    def codegen(context, builder, sig, args):
        pointer = _element_pointer(context, builder, sig.args[0], *args)
        return builder.load(builder.bitcast(pointer, context.get_value_type(vec).as_pointer()),
                            align=array.dtype.bitwidth // 8)
    return vec(array, index), codegen


@intrinsic
def _vstore(typingctx, array, index, value):
    """array[index : index + lanes] = value (unaligned store)."""
    def codegen(context, builder, sig, args):
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        builder.store(args[2], builder.bitcast(pointer, args[2].type.as_pointer()),
                      align=array.dtype.bitwidth // 8)
        return context.get_dummy_value()
    return types.none(array, index, value), codegen


@intrinsic
def _sload(typingctx, array, index):
    """array[index] without numba's negative-index wraparound (keeps the inner loop lean)."""
    def codegen(context, builder, sig, args):
        return builder.load(_element_pointer(context, builder, sig.args[0], *args))
    return array.dtype(array, index), codegen


@intrinsic
def _vzero(typingctx, array):
    vec = _Vec(array.dtype, _LANES[array.dtype])

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vec), None)
    return vec(array), codegen


@intrinsic
def _vlanes(typingctx, array):
    lanes = _LANES[array.dtype]

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, lanes)
    return types.intp(array), codegen


@intrinsic
def _vfma(typingctx, scalar, vector, acc):
    """acc + scalar·vector in every lane, one fused multiply-add (llvm.fma)."""
    def codegen(context, builder, sig, args):
        vty = args[2].type
        value = context.cast(builder, args[0], sig.args[0], acc.dtype)
        lanes = ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count)
        spread = builder.insert_element(ir.Constant(vty, None), value, ir.Constant(ir.IntType(32), 0))
        spread = builder.shuffle_vector(spread, ir.Constant(vty, None), lanes)
        bits = 64 if isinstance(vty.element, ir.DoubleType) else 32
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vty, [vty, vty, vty]),
                                             f"llvm.fma.v{vty.count}f{bits}")
        return builder.call(fma, [spread, args[1], args[2]])
    return acc(scalar, vector, acc), codegen


@njit(**_JIT)
def pack_panels(source, packed):
    """B (K×N, any strides) → panels of 2·lanes columns, k-major, zero-padded.

    packed needs ceil(N / width)·width·K elements (width = panel_width(dtype)).
    """
    k_dim, n_dim = source.shape
    width = 2 * _vlanes(packed)
    for p in range((n_dim + width - 1) // width):
        base = p * k_dim * width
        for k in range(k_dim):
            row = base + k * width
            for q in range(width):
                col = p * width + q
                packed[row + q] = source[k, col] if col < n_dim else 0.0


@njit(**_JIT)
def _pack_tiles(source, offset, row_stride, m, k_dim, packed):
    """A (m×K at source[offset + i·row_stride + k]) → tiles of 10 rows, k-major, zero-padded."""
    for t in range((m + TILE_ROWS - 1) // TILE_ROWS):
        base = t * k_dim * TILE_ROWS
        for k in range(k_dim):
            for r in range(TILE_ROWS):
                i = t * TILE_ROWS + r
                packed[base + k * TILE_ROWS + r] = (
                    source[offset + i * row_stride + k] if i < m else 0.0)


@njit(**_JIT)
def _pack_weight_tiles(params, w_off, n_in, n_out, inputs, packed):
    """W¹[:, inputs] (n_out × len(inputs)) → tiles of 10 rows, k-major, zero-padded."""
    k_dim = inputs.shape[0]
    for t in range((n_out + TILE_ROWS - 1) // TILE_ROWS):
        base = t * k_dim * TILE_ROWS
        for k in range(k_dim):
            column = w_off + inputs[k]
            for r in range(TILE_ROWS):
                i = t * TILE_ROWS + r
                packed[base + k * TILE_ROWS + r] = params[column + i * n_in] if i < n_out else 0.0


@njit(**_JIT)
def _gemm_panels(m, n, k_dim, a_tiles, b_panels, alpha, beta, c, c_off, ldc, block, columns):
    """C (m×n, rows ldc apart at c[c_off:]) ← α A B + β C, A and B packed as above.

    `block` holds one 10 × width block of C on its way out (≥ 10·width elements). With
    `columns` (non-empty) column q of the product goes to column columns[q] of C.
    """
    lanes = _vlanes(c)
    width = 2 * lanes
    for p in range((n + width - 1) // width):
        n0 = p * width
        cols = min(width, n - n0)
        b_base = p * k_dim * width
        for t in range((m + TILE_ROWS - 1) // TILE_ROWS):
            a_base = t * k_dim * TILE_ROWS
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = _vzero(c)
            d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = d8 = d9 = _vzero(c)
            for k in range(k_dim):
                bq = b_base + k * width
                x = _vload(b_panels, bq)
                y = _vload(b_panels, bq + lanes)
                aq = a_base + k * TILE_ROWS
                s = _sload(a_tiles, aq)
                c0 = _vfma(s, x, c0)
                d0 = _vfma(s, y, d0)
                s = _sload(a_tiles, aq + 1)
                c1 = _vfma(s, x, c1)
                d1 = _vfma(s, y, d1)
                s = _sload(a_tiles, aq + 2)
                c2 = _vfma(s, x, c2)
                d2 = _vfma(s, y, d2)
                s = _sload(a_tiles, aq + 3)
                c3 = _vfma(s, x, c3)
                d3 = _vfma(s, y, d3)
                s = _sload(a_tiles, aq + 4)
                c4 = _vfma(s, x, c4)
                d4 = _vfma(s, y, d4)
                s = _sload(a_tiles, aq + 5)
                c5 = _vfma(s, x, c5)
                d5 = _vfma(s, y, d5)
                s = _sload(a_tiles, aq + 6)
                c6 = _vfma(s, x, c6)
                d6 = _vfma(s, y, d6)
                s = _sload(a_tiles, aq + 7)
                c7 = _vfma(s, x, c7)
                d7 = _vfma(s, y, d7)
                s = _sload(a_tiles, aq + 8)
                c8 = _vfma(s, x, c8)
                d8 = _vfma(s, y, d8)
                s = _sload(a_tiles, aq + 9)
                c9 = _vfma(s, x, c9)
                d9 = _vfma(s, y, d9)
            _vstore(block, 0, c0)
            _vstore(block, lanes, d0)
            _vstore(block, width, c1)
            _vstore(block, width + lanes, d1)
            _vstore(block, 2 * width, c2)
            _vstore(block, 2 * width + lanes, d2)
            _vstore(block, 3 * width, c3)
            _vstore(block, 3 * width + lanes, d3)
            _vstore(block, 4 * width, c4)
            _vstore(block, 4 * width + lanes, d4)
            _vstore(block, 5 * width, c5)
            _vstore(block, 5 * width + lanes, d5)
            _vstore(block, 6 * width, c6)
            _vstore(block, 6 * width + lanes, d6)
            _vstore(block, 7 * width, c7)
            _vstore(block, 7 * width + lanes, d7)
            _vstore(block, 8 * width, c8)
            _vstore(block, 8 * width + lanes, d8)
            _vstore(block, 9 * width, c9)
            _vstore(block, 9 * width + lanes, d9)
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


@intrinsic
def _vsum(typingctx, vector):
    """The lanes of a vector added in order, lane 0 first (an ordered reduction: fixed bits)."""
    def codegen(context, builder, sig, args):
        vty = args[0].type
        bits = 64 if isinstance(vty.element, ir.DoubleType) else 32
        reduce = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vty.element, [vty.element, vty]),
            f"llvm.vector.reduce.fadd.v{vty.count}f{bits}")
        return builder.call(reduce, [ir.Constant(vty.element, -0.0), args[0]])
    return vector.dtype(vector), codegen


# ---------------------------------------------------------------------------
# A vectorisable exp and the scalar activation functions.

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
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * len(args)),
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
_ATANH = [1.0 / (2 * k + 1) for k in range(11, -1, -1)]  # 1/23, 1/21, …, 1/3, 1


def _emit_log(builder, x):
    """IR for ln x, x a positive normal double or a vector of them; NaN stays NaN.

    x = 2^e·m with m in [√½, √2); ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, by its
    series to s^23 (truncation < 1e-18); ln x = e·ln2 (split hi/lo) + ln m. ≤ 1 ulp.
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
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3),
                                            f"llvm.fma.{suffix}")
        return builder.call(fn, [a, b, c])

    bits = builder.bitcast(x, ity)
    e = builder.sub(builder.and_(builder.lshr(bits, i(52)), i(0x7FF)), i(1023))
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
    return builder.select(builder.fcmp_unordered("uno", x, x), x, y)


def _emit_cross_entropy(builder, a, t):
    """IR for t·ln max(a, ε) + (1 − t)·ln max(1 − a, ε), doubles or vectors (NaN a gives NaN)."""
    ty = a.type
    eps, one = _constant(ty, _CE_EPS), _constant(ty, 1.0)

    def clamp(v):  # max(v, ε) that keeps NaN, as Python's max(v, ε) does
        return builder.select(builder.fcmp_ordered("<", v, eps), eps, v)

    first = builder.fmul(t, _emit_log(builder, clamp(a)))
    second = builder.fmul(builder.fsub(one, t), _emit_log(builder, clamp(builder.fsub(one, a))))
    return builder.fadd(first, second)


@intrinsic
def _cross_entropy_lanes(typingctx, acts, y, a_index, y_index, acc):
    """acc + the cross-entropy terms (see _emit_cross_entropy) of one vector of outputs, in float64."""
    def codegen(context, builder, sig, args):
        lanes = _LANES[acts.dtype]
        vty = ir.VectorType(context.get_value_type(acts.dtype), lanes)
        wide = ir.VectorType(ir.DoubleType(), lanes)
        align = acts.dtype.bitwidth // 8
        a_ptr = _element_pointer(context, builder, sig.args[0], args[0], args[2])
        y_ptr = _element_pointer(context, builder, sig.args[1], args[1], args[3])
        a = builder.load(builder.bitcast(a_ptr, vty.as_pointer()), align=align)
        t = builder.load(builder.bitcast(y_ptr, vty.as_pointer()), align=align)
        if acts.dtype != types.float64:
            a, t = builder.fpext(a, wide), builder.fpext(t, wide)
        return builder.fadd(args[4], _emit_cross_entropy(builder, a, t))
    return acc(acts, y, a_index, y_index, acc), codegen


@intrinsic
def _cross_entropy_one(typingctx, a, t):
    """The cross-entropy terms of one output, with the same operations as the vector lanes."""
    def codegen(context, builder, sig, args):
        a64 = context.cast(builder, args[0], sig.args[0], types.float64)
        t64 = context.cast(builder, args[1], sig.args[1], types.float64)
        return _emit_cross_entropy(builder, a64, t64)
    return types.float64(a, t), codegen


@intrinsic
def _vzero64(typingctx, array):
    """A zero vector of float64 with as many lanes as the array's dtype has per vector."""
    vec = _Vec(types.float64, _LANES[array.dtype])

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vec), None)
    return vec(array), codegen


@intrinsic
def _exp(typingctx, x):
    """e^x in float64 (see _emit_exp)."""
    def codegen(context, builder, signature, args):
        return _emit_exp(builder, context.cast(builder, args[0], signature.args[0], types.float64))
    return types.float64(x), codegen


@intrinsic
def _bias_sigmoid_lanes(typingctx, zs, acts, index, bias):
    """One vector of lanes at `index`: z += bias (in the array's dtype), a = σ(z) in float64."""
    vec = _Vec(zs.dtype, _LANES[zs.dtype])

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(vec)
        align = zs.dtype.bitwidth // 8
        z_ptr = builder.bitcast(_element_pointer(context, builder, sig.args[0], args[0], args[2]),
                                vty.as_pointer())
        a_ptr = builder.bitcast(_element_pointer(context, builder, sig.args[1], args[1], args[2]),
                                vty.as_pointer())
        b = context.cast(builder, args[3], sig.args[3], zs.dtype)
        spread = builder.insert_element(ir.Constant(vty, None), b, ir.Constant(ir.IntType(32), 0))
        spread = builder.shuffle_vector(spread, ir.Constant(vty, None),
                                        ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count))
        z = builder.fadd(builder.load(z_ptr, align=align), spread)
        builder.store(z, z_ptr, align=align)
        wide = ir.VectorType(ir.DoubleType(), vty.count)
        if zs.dtype == types.float64:
            a = _emit_sigmoid(builder, z)
        else:
            a = builder.fptrunc(_emit_sigmoid(builder, builder.fpext(z, wide)), vty)
        builder.store(a, a_ptr, align=align)
        return context.get_dummy_value()
    return types.none(zs, acts, index, bias), codegen


@njit(**_INLINE)
def _sigmoid(z):
    return 1.0 / (1.0 + _exp(-z))


@njit(**_INLINE)
def _activate(z, code):
    if code == SIGMOID:
        return _sigmoid(z)
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    return z if z > 0.0 else ELU_ALPHA * math.expm1(z)


@njit(**_INLINE)
def _derivative(z, code):
    if code == SIGMOID:
        s = _sigmoid(z)
        return s * (1.0 - s)
    if code == TANH:
        t = math.tanh(z)
        return 1.0 - t * t
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    return 1.0 if z > 0.0 else ELU_ALPHA * _exp(z)


@njit(**_JIT)
def _sum(values, start, count):
    """values[start : start+count].sum() in 8 interleaved partial sums (vectorises, fixed order)."""
    v = values[start : start + count]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = count - count % 8
    for i in range(0, stop, 8):
        s0 += v[i]
        s1 += v[i + 1]
        s2 += v[i + 2]
        s3 += v[i + 3]
        s4 += v[i + 4]
        s5 += v[i + 5]
        s6 += v[i + 6]
        s7 += v[i + 7]
    for i in range(stop, count):
        s0 += v[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(**_JIT)
def _add(target, t_off, source, s_off, count):
    """target[t_off:][:count] += source[s_off:][:count]."""
    t = target[t_off : t_off + count]
    s = source[s_off : s_off + count]
    for i in range(count):
        t[i] += s[i]


@njit(**_JIT)
def _sigmoid_span(z, a, count, bias):
    """z[:count] += bias, a[:count] = σ(z): whole vectors through _bias_sigmoid_lanes, then the
    tail one by one with the same operations (same bits)."""
    lanes = _vlanes(z)
    full = count - count % lanes
    for i in range(0, full, lanes):
        _bias_sigmoid_lanes(z, a, i, bias)
    for i in range(full, count):
        value = z[i] + bias
        z[i] = value
        a[i] = _sigmoid(value)


@njit(**_JIT)
def _activate_hidden(params, b_off, zs, acts, start, n_out, batch, code):
    """Hidden block (n_out, B): z += b (per row), a = f(z).

    Sigmoid: a span per row with the bias added on the way, or for a small batch the biases
    first and then σ over the whole block as one span (a scalar tail per row would cost
    more than the extra pass). Other activations: a row at a time
    through local views with the branch outside the loop, which is what lets LLVM vectorise
    them (indexing the whole buffers does not).
    """
    if code == SIGMOID and batch < 8 * _vlanes(zs):  # small batch: one span, few scalar tails
        for j in range(n_out):
            bias = params[b_off + j]
            z_row = zs[start + j * batch : start + (j + 1) * batch]
            for i in range(batch):
                z_row[i] += bias
        count = n_out * batch
        _sigmoid_span(zs[start : start + count], acts[start : start + count], count, 0.0)
        return
    if code == SIGMOID:  # large batch: a span per row, the bias added on the way
        for j in range(n_out):
            lo = start + j * batch
            _sigmoid_span(zs[lo : lo + batch], acts[lo : lo + batch], batch, params[b_off + j])
        return
    for j in range(n_out):
        bias = params[b_off + j]
        lo = start + j * batch
        z_row = zs[lo : lo + batch]
        a_row = acts[lo : lo + batch]
        for i in range(batch):
            z = z_row[i] + bias
            z_row[i] = z
            a_row[i] = _activate(z, code)


@njit(**_JIT)
def _activate_output(params, b_off, zs, acts, start, n_out, batch):
    """Output block (B, n_out): z += b (per column), a = σ(z)."""
    z_block = zs[start : start + batch * n_out]
    for i in range(batch):
        for j in range(n_out):
            z_block[i * n_out + j] += params[b_off + j]
    _sigmoid_span(z_block, acts[start : start + batch * n_out], batch * n_out, 0.0)


@njit(**_JIT)
def _forward(params, table, x, xt_panels, inputs, scratch, zs, acts, act_code):
    """forward(); with xt_panels (x[:, inputs]ᵀ packed by pack_panels) the first layer runs on
    _gemm_panels over those input columns only (the others must be zero in every row of x)."""
    batch = x.shape[0]
    n_layers = table.shape[0]
    prev, prev_off, prev_rows = x.reshape(x.size), _I0, _NO  # x is aᵀ: (n_0, B) by columns
    offset = _I0
    for layer in range(n_layers):
        w_off, b_off, n_out, n_in, residual = table[layer]
        hidden = layer < n_layers - 1
        if layer == 0 and hidden and xt_panels.size > 0:
            block, tiles = _split_scratch(scratch, n_out, max(n_in, batch))
            _pack_weight_tiles(params, w_off, n_in, n_out, inputs, tiles)
            _gemm_panels(n_out, batch, inputs.shape[0], tiles, xt_panels, 1.0, 0.0, zs, _I0, batch,
                         block, inputs[:0])
        else:
            _matmul(n_out, batch, n_in, 1.0, params, w_off, _YES, prev, prev_off, prev_rows,
                    0.0, zs, offset, hidden)
        if hidden:
            _activate_hidden(params, b_off, zs, acts, offset, n_out, batch, act_code)
            if residual:  # the previous block is hidden too, same width and layout
                _add(acts, offset, acts, offset - n_out * batch, n_out * batch)
        else:
            _activate_output(params, b_off, zs, acts, offset, n_out, batch)
        prev, prev_off, prev_rows = acts, offset, hidden
        offset += batch * n_out
    return offset - batch * table[n_layers - 1, N_OUT]


@njit(**_JIT)
def _split_scratch(scratch, n_hidden, k_max):
    """probe_gradient's scratch: one block of C for _gemm_panels, then A's tiles."""
    block = TILE_ROWS * 2 * _vlanes(scratch)
    tiles = block + (n_hidden + TILE_ROWS - 1) // TILE_ROWS * TILE_ROWS * k_max
    return scratch[:block], scratch[block:tiles]


def scratch_size(n_hidden: int, n_inputs: int, batch: int, dtype) -> int:
    """Elements of the scratch buffer probe_gradient needs for a first layer n_inputs → n_hidden."""
    tiles = -(-n_hidden // TILE_ROWS) * TILE_ROWS * max(n_inputs, batch)
    return TILE_ROWS * panel_width(dtype) + tiles


def packed_size(k_dim: int, n_dim: int, dtype) -> int:
    """Elements pack_panels writes for a K×N matrix."""
    width = panel_width(dtype)
    return -(-n_dim // width) * width * k_dim


@njit(**_JIT)
def forward(params, table, x, zs, acts, act_code):
    """z^l = W^l a^{l-1} + b^l, a^l = f(z^l) (+ a^{l-1} on a skip); output layer sigmoid.

    Returns where the output block starts in `acts`; that block is (B, n_L).
    """
    none, no_inputs = np.empty(0, dtype=params.dtype), np.empty(0, dtype=np.int64)
    return _forward(params, table, x, none, no_inputs, none, zs, acts, act_code)


@njit(**_JIT)
def output_cost(acts, out_start, y, cost_code):
    """Mean cost over the batch (no L2 term): cross-entropy or ½‖a − y‖².

    Cross-entropy runs a vector at a time with our own log (libm's does not vectorise here),
    summed lane by lane, then the lanes in order: a fixed order, so fixed bits.
    """
    batch, n_out = y.shape
    count = batch * n_out
    out = acts[out_start : out_start + count]
    targets = y.reshape(count)
    if cost_code == QUADRATIC:
        total = 0.0
        for i in range(count):
            total += 0.5 * (out[i] - targets[i]) * (out[i] - targets[i])
        return total / batch
    lanes = _vlanes(out)
    full = count - count % lanes
    acc = _vzero64(out)
    for i in range(0, full, lanes):
        acc = _cross_entropy_lanes(out, targets, i, i, acc)
    total = _vsum(acc)
    for i in range(full, count):
        total += _cross_entropy_one(out[i], targets[i])
    return -total / batch


@njit(**_JIT)
def _hidden_delta(zs, acts, deltas, grad_a, start, count, code, residual):
    """δ = ∂C/∂a ⊙ f'(z) over a hidden block; f' from the stored a where a = f(z)."""
    z = zs[start : start + count]
    a = acts[start : start + count]
    d = deltas[start : start + count]
    g = grad_a[start : start + count]
    if code == SIGMOID and not residual:
        for i in range(count):
            d[i] = g[i] * (a[i] * (1.0 - a[i]))
    elif code == TANH and not residual:
        for i in range(count):
            d[i] = g[i] * (1.0 - a[i] * a[i])
    elif code == SIGMOID:
        for i in range(count):
            d[i] = g[i] * _derivative(z[i], SIGMOID)
    else:
        for i in range(count):
            d[i] = g[i] * _derivative(z[i], code)


@njit(**_JIT)
def _backprop(params, table, x, y, zs, acts, deltas, grad_acts, grads, act_code, cost_code,
              fused, step, decay, x_panels, inputs, scratch):
    """Backprop after `forward`. fused=False: grads ← mean ∂C/∂params over the batch.
    fused=True: apply W ← decay·W − step·∂C/∂W, b ← b − step·∂C/∂b in place instead,
    each layer's W only after it has carried δ down (grads untouched).
    With x_panels (x[:, inputs] packed by pack_panels, not fused) the first layer's ∂C/∂W runs
    on _gemm_panels for those inputs; the other columns of ∂C/∂W¹ are exactly zero.
    """
    batch = x.shape[0]
    n_layers = table.shape[0]
    inv_batch = 1.0 / batch
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    offset = _I0  # start of the output block: Σ_{l<L} B·n_l
    for layer in range(n_layers - 1):
        offset += batch * table[layer, N_OUT]
    n_out = table[n_layers - 1, N_OUT]
    a_out = acts[offset : offset + batch * n_out]  # δ^L, (B, n_L) like y
    d_out = deltas[offset : offset + batch * n_out]
    if cost_code == QUADRATIC:
        for i in range(batch * n_out):
            d_out[i] = (a_out[i] - yf[i]) * (a_out[i] * (1.0 - a_out[i]))
    else:
        for i in range(batch * n_out):
            d_out[i] = a_out[i] - yf[i]
    for layer in range(n_layers - 1, -1, -1):
        w_off, b_off, n_out, n_in, residual = table[layer]
        rows = layer < n_layers - 1  # this block is hidden: (n_out, B)
        # ∂C/∂b = mean over the batch of δ
        if rows:
            for j in range(n_out):
                g = _sum(deltas, offset + j * batch, batch) * inv_batch
                if fused:
                    params[b_off + j] -= step * g
                else:
                    grads[b_off + j] = g
        else:
            col = np.zeros(n_out, dtype=np.float64)
            for i in range(batch):
                for j in range(n_out):
                    col[j] += deltas[offset + i * n_out + j]
            for j in range(n_out):
                if fused:
                    params[b_off + j] -= step * (col[j] * inv_batch)
                else:
                    grads[b_off + j] = col[j] * inv_batch
        prev = offset - batch * n_in
        if layer > 0:
            # ∂C/∂a^{l-1} = W^lᵀ δ^l (+ ∂C/∂a^l through the skip), with W^l not yet updated;
            # kept in grad_acts only when the layer below has a skip and will need it.
            keep = table[layer - 1, RESIDUAL] != 0
            target = grad_acts if keep else deltas
            _matmul(n_in, batch, n_out, 1.0, params, w_off, _NO, deltas, offset, rows,
                    0.0, target, prev, _YES)
            if residual:
                _add(target, prev, grad_acts, offset, n_in * batch)
            _hidden_delta(zs, acts, deltas, target, prev, n_in * batch, act_code, keep)
        # ∂C/∂W = δ a^{l-1}ᵀ / B
        if layer == 0:
            a_prev, a_off, a_rows = xf, _I0, _NO
        else:
            a_prev, a_off, a_rows = acts, prev, _YES
        if layer == 0 and rows and x_panels.size > 0 and not fused:
            block, tiles = _split_scratch(scratch, n_out, max(n_in, batch))
            _pack_tiles(deltas, _I0, batch, n_out, batch, tiles)
            grads[w_off : w_off + n_out * n_in] = 0.0  # the columns left out stay exactly zero
            _gemm_panels(n_out, inputs.shape[0], batch, tiles, x_panels, inv_batch, 0.0, grads, w_off,
                         n_in, block, inputs)
        elif fused:
            _matmul(n_out, n_in, batch, -step * inv_batch, deltas, offset, rows, a_prev, a_off,
                    not a_rows, decay, params, w_off, _YES)
        else:
            _matmul(n_out, n_in, batch, inv_batch, deltas, offset, rows, a_prev, a_off,
                    not a_rows, 0.0, grads, w_off, _YES)
        offset = prev


@njit(**_JIT)
def backward(params, table, x, y, zs, acts, deltas, grad_acts, grads, act_code, cost_code):
    """Backprop after `forward`: grads = mean ∂C/∂params over the batch (no L2).

    δ^L = a − y (cross-entropy) or (a − y)σ'(z^L); δ^l = (W^{l+1}ᵀ δ^{l+1} + skip) ⊙ f'(z^l);
    ∂C/∂b^l = mean_x δ^l, ∂C/∂W^l = δ^l a^{l-1}ᵀ / B. `deltas` keeps every δ^l
    (hidden blocks (n_l, B), the output block (B, n_L)).
    """
    none, no_inputs = np.empty(0, dtype=params.dtype), np.empty(0, dtype=np.int64)
    _backprop(params, table, x, y, zs, acts, deltas, grad_acts, grads, act_code, cost_code,
              _NO, 0.0, 1.0, none, no_inputs, none)


@njit(**_JIT)
def probe_gradient(params, table, x, y, x_panels, xt_panels, inputs, scratch, zs, acts, deltas,
                   grad_acts, grads, act_code, cost_code):
    """forward then backward on a fixed batch (the probe set) whose packings are kept.

    inputs: the input columns that are not zero in every row of x (exact to skip: they add
    nothing to z¹ and their ∂C/∂W¹ is zero); x_panels = pack_panels(x[:, inputs]),
    xt_panels = pack_panels(x[:, inputs]ᵀ), scratch of scratch_size(). Empty panels fall back
    to BLAS over every column. Returns forward's output start.
    """
    out_start = _forward(params, table, x, xt_panels, inputs, scratch, zs, acts, act_code)
    _backprop(params, table, x, y, zs, acts, deltas, grad_acts, grads, act_code, cost_code,
              _NO, 0.0, 1.0, x_panels, inputs, scratch)
    return out_start


@njit(**_JIT)
def update(params, grads, table, eta, lmbda, n_train, clip):
    """W ← (1 − ηλ/n)W − η∂C/∂W, b ← b − η∂C/∂b; gradients first scaled to global norm ≤ clip if clip > 0."""
    scale = 1.0
    if clip > 0.0:
        norm = math.sqrt(_square_sum(grads, _I0, grads.shape[0]))
        if norm > clip:
            scale = clip / norm
    step = eta * scale
    decay = 1.0 - eta * lmbda / n_train
    for layer in range(table.shape[0]):
        w_off, b_off, n_out, n_in, _ = table[layer]
        w = params[w_off : w_off + n_out * n_in]
        g = grads[w_off : w_off + n_out * n_in]
        for k in range(n_out * n_in):
            w[k] = decay * w[k] - step * g[k]
        for k in range(b_off, b_off + n_out):
            params[k] -= step * grads[k]


@njit(**_JIT)
def _square_sum(values, start, count):
    """Σ values[i]² over the range, in 8 interleaved partial sums."""
    v = values[start : start + count]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = count - count % 8
    for i in range(0, stop, 8):
        s0 += v[i] * v[i]
        s1 += v[i + 1] * v[i + 1]
        s2 += v[i + 2] * v[i + 2]
        s3 += v[i + 3] * v[i + 3]
        s4 += v[i + 4] * v[i + 4]
        s5 += v[i + 5] * v[i + 5]
        s6 += v[i + 6] * v[i + 6]
        s7 += v[i + 7] * v[i + 7]
    for i in range(stop, count):
        s0 += v[i] * v[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(**_JIT)
def probe_summary(acts, out_start, y, params, grads, table, cost_code, l2_scale, speeds):
    """After probe_gradient: the cost with its L2 term, and speeds[l] = ‖∂C/∂b^l‖ for every hidden layer."""
    for layer in range(table.shape[0] - 1):
        speeds[layer] = math.sqrt(_square_sum(grads, table[layer, B_OFF], table[layer, N_OUT]))
    return output_cost(acts, out_start, y, cost_code) + l2_scale * weight_square_sum(params, table)


@njit(**_JIT)
def weight_square_sum(params, table):
    """Σ‖W^l‖², for the L2 term of the cost."""
    total = 0.0
    for layer in range(table.shape[0]):
        w_off, _, n_out, n_in, _ = table[layer]
        total += _square_sum(params, w_off, n_out * n_in)
    return total


@njit(**_JIT)
def sgd_steps(params, table, train_x, train_y, order, first_batch, n_batches, batch_size,
              xb, yb, zs, acts, deltas, grad_acts, grads, eta, lmbda, clip, act_code, cost_code):
    """Mini-batch SGD over batches first_batch .. first_batch+n_batches−1 of `order`.

    The last batch of an epoch may be short, as in network2. Without clipping the
    update is fused into backprop (see _backprop); with it, the whole gradient comes
    first. Returns False at the first non-finite parameter (the net diverged), True
    otherwise.
    """
    n_train = order.shape[0]
    n_in = train_x.shape[1]
    n_out = train_y.shape[1]
    decay = 1.0 - eta * lmbda / n_train
    none, no_inputs = np.empty(0, dtype=params.dtype), np.empty(0, dtype=np.int64)
    for batch_index in range(first_batch, first_batch + n_batches):
        start = batch_index * batch_size
        stop = min(start + batch_size, n_train)
        size = stop - start
        xv = xb[: size * n_in].reshape(size, n_in)
        yv = yb[: size * n_out].reshape(size, n_out)
        for i in range(size):  # element loops: a slice assignment drags in numba's string code
            row = order[start + i]
            for k in range(n_in):
                xb[i * n_in + k] = train_x[row, k]
            for k in range(n_out):
                yb[i * n_out + k] = train_y[row, k]
        _forward(params, table, xv, none, no_inputs, none, zs, acts, act_code)
        fused = clip <= 0.0
        _backprop(params, table, xv, yv, zs, acts, deltas, grad_acts, grads, act_code,
                  cost_code, fused, eta, decay, none, no_inputs, none)
        if not fused:
            update(params, grads, table, eta, lmbda, n_train, clip)
    for k in range(params.shape[0]):
        if not math.isfinite(params[k]):
            return False
    return True


@njit(**_JIT)
def count_correct(params, table, x, labels, zs, acts, act_code):
    """How many rows of x the net classifies as their label (argmax of the output)."""
    none, no_inputs = np.empty(0, dtype=params.dtype), np.empty(0, dtype=np.int64)
    out_start = _forward(params, table, x, none, no_inputs, none, zs, acts, act_code)
    batch = x.shape[0]
    n_out = table[table.shape[0] - 1, N_OUT]
    out = acts[out_start : out_start + batch * n_out].reshape(batch, n_out)
    correct = 0
    for i in range(batch):
        best = 0
        for j in range(1, n_out):
            if out[i, j] > out[i, best]:
                best = j
        if best == labels[i]:
            correct += 1
    return correct
