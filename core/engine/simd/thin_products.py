"""A mini-batch SGD step's products, register-blocked in SIMD vectors for their thin side.

Every product of a step has a thin side: 30 neurons, or 10 images at batch 10. At
batch 10 they are the first layer's z¹ = W¹xᵀ (30×784 by 784×10) and its fused update
W¹ ← (1 − ηλ/n)W¹ − (η/B) δ¹x, then the 30-wide layers' 30×30 by 30×10. BLAS spends
most of such a call packing its operands; these kernels read them where they lie and
keep a block of results in vector registers:
- weighted_inputs: z¹ as dot products of rows of W¹ with the images;
- fused_weight_update: W¹'s update, 3 rows by 4 vectors of columns at a time;
- combine_rows: rows as combinations of other rows, the last vector masked, which with
  the right strides is z^l = W^l a^{l−1}, W^lᵀ δ^l and W^l's update (layer_*).
Rows of a block past the matrix's end repeat its last row (the same numbers written
twice), so there are no tail paths. `vgrad-tui bench` measures them against BLAS.
"""

from __future__ import annotations

from vgrad.core.engine.jit import I0, I1, kernel
from vgrad.core.engine.simd.lanes import (
    sload,
    vfma,
    vlanes,
    vload,
    vload_first,
    vstore,
    vstore_first,
    vsum,
    vvfma,
    vzero,
)
from vgrad.core.engine.simd.target import REGISTERS

# Rows of W per block of weighted_inputs, by 5 images: 3 rows (15 accumulators, 5 images and a
# row of W in registers) where the target has 32 vector registers, 2 (10 + 5 + 1) where it has 16.
ROWS = 3 if REGISTERS == 32 else 2
# Vectors of columns per block of fused_weight_update: 3 rows × 4 (12 accumulators) with 32
# registers, 3 × 3 (9 accumulators, 13 registers in use) with 16.
VECTORS = 4 if REGISTERS == 32 else 3


@kernel
def weighted_inputs(w, w_off, n_in, n_out, x, batch, z, z_off):
    """z[z_off + j·B + i] = Σ_k W[j, k] x[i, k]: z¹ without its bias, in the (n¹, B) layout.

    W is n_out×n_in by rows at w[w_off:], x is B×n_in by rows. Blocks of ROWS rows of W by
    5 images: up to 15 running dot products, each summed over its lanes at the end.
    """
    lanes = vlanes(w)
    full = n_in - n_in % lanes
    last_row, last_image = n_out - 1, batch - 1
    for j0 in range(0, n_out, ROWS):
        w0 = w_off + j0 * n_in
        w1 = w_off + min(j0 + 1, last_row) * n_in
        w2 = w_off + min(j0 + 2, last_row) * n_in
        for i0 in range(0, batch, 5):
            x0 = i0 * n_in
            x1 = min(i0 + 1, last_image) * n_in
            x2 = min(i0 + 2, last_image) * n_in
            x3 = min(i0 + 3, last_image) * n_in
            x4 = min(i0 + 4, last_image) * n_in
            s00 = s01 = s02 = s03 = s04 = vzero(w)
            s10 = s11 = s12 = s13 = s14 = vzero(w)
            s20 = s21 = s22 = s23 = s24 = vzero(w)
            for k in range(0, full, lanes):
                p0 = vload(x, x0 + k)
                p1 = vload(x, x1 + k)
                p2 = vload(x, x2 + k)
                p3 = vload(x, x3 + k)
                p4 = vload(x, x4 + k)
                v = vload(w, w0 + k)
                s00, s01, s02 = vvfma(v, p0, s00), vvfma(v, p1, s01), vvfma(v, p2, s02)
                s03, s04 = vvfma(v, p3, s03), vvfma(v, p4, s04)
                v = vload(w, w1 + k)
                s10, s11, s12 = vvfma(v, p0, s10), vvfma(v, p1, s11), vvfma(v, p2, s12)
                s13, s14 = vvfma(v, p3, s13), vvfma(v, p4, s14)
                if ROWS == 3:  # a compile-time constant: 2-row blocks have no third row
                    v = vload(w, w2 + k)
                    s20, s21, s22 = vvfma(v, p0, s20), vvfma(v, p1, s21), vvfma(v, p2, s22)
                    s23, s24 = vvfma(v, p3, s23), vvfma(v, p4, s24)
            sums = (vsum(s00), vsum(s01), vsum(s02), vsum(s03), vsum(s04),
                    vsum(s10), vsum(s11), vsum(s12), vsum(s13), vsum(s14),
                    vsum(s20), vsum(s21), vsum(s22), vsum(s23), vsum(s24))
            for r in range(min(ROWS, n_out - j0)):
                row = w_off + (j0 + r) * n_in
                for q in range(min(5, batch - i0)):
                    total = sums[r * 5 + q]
                    image = (i0 + q) * n_in
                    for k in range(full, n_in):
                        total += w[row + k] * x[image + k]
                    z[z_off + (j0 + r) * batch + i0 + q] = total


@kernel
def fused_weight_update(w, w_off, n_in, n_out, alpha, d, d_off, x, batch, decay):
    """W ← decay·W + α δ x in place: W n_out×n_in by rows at w[w_off:], δ (n_out, B) at
    d[d_off:], x B×n_in by rows. With α = −η/B and decay = 1 − ηλ/n this is SGD's step.

    Blocks of 3 rows by VECTORS vectors of columns: 12 (or 9) accumulators start as decay·W, take
    one fused multiply-add per image, and are stored once. Every load of a block comes
    before its stores, so a repeated last row or vector is written with the same value.
    combine_rows computes the same update; this wider block suits W¹'s long rows.
    """
    lanes = vlanes(w)
    full = n_in - n_in % lanes
    last_row, last_vector = n_out - 1, full - lanes
    zero = vzero(w)
    for j0 in range(0, n_out, 3):
        j1, j2 = min(j0 + 1, last_row), min(j0 + 2, last_row)
        w0, w1, w2 = w_off + j0 * n_in, w_off + j1 * n_in, w_off + j2 * n_in
        e0, e1, e2 = d_off + j0 * batch, d_off + j1 * batch, d_off + j2 * batch
        for k0 in range(0, full, VECTORS * lanes):
            k1 = min(k0 + lanes, last_vector)
            k2 = min(k0 + 2 * lanes, last_vector)
            k3 = min(k0 + 3 * lanes, last_vector)
            a00, a01 = vfma(decay, vload(w, w0 + k0), zero), vfma(decay, vload(w, w0 + k1), zero)
            a02 = vfma(decay, vload(w, w0 + k2), zero)
            a10, a11 = vfma(decay, vload(w, w1 + k0), zero), vfma(decay, vload(w, w1 + k1), zero)
            a12 = vfma(decay, vload(w, w1 + k2), zero)
            a20, a21 = vfma(decay, vload(w, w2 + k0), zero), vfma(decay, vload(w, w2 + k1), zero)
            a22 = vfma(decay, vload(w, w2 + k2), zero)
            a03 = a13 = a23 = p3 = zero
            if VECTORS == 4:  # a compile-time constant: 3-vector blocks have no fourth column
                a03 = vfma(decay, vload(w, w0 + k3), zero)
                a13 = vfma(decay, vload(w, w1 + k3), zero)
                a23 = vfma(decay, vload(w, w2 + k3), zero)
            for i in range(batch):
                image = i * n_in
                p0, p1 = vload(x, image + k0), vload(x, image + k1)
                p2 = vload(x, image + k2)
                if VECTORS == 4:
                    p3 = vload(x, image + k3)
                s = alpha * sload(d, e0 + i)
                a00, a01, a02 = vfma(s, p0, a00), vfma(s, p1, a01), vfma(s, p2, a02)
                if VECTORS == 4:
                    a03 = vfma(s, p3, a03)
                s = alpha * sload(d, e1 + i)
                a10, a11, a12 = vfma(s, p0, a10), vfma(s, p1, a11), vfma(s, p2, a12)
                if VECTORS == 4:
                    a13 = vfma(s, p3, a13)
                s = alpha * sload(d, e2 + i)
                a20, a21, a22 = vfma(s, p0, a20), vfma(s, p1, a21), vfma(s, p2, a22)
                if VECTORS == 4:
                    a23 = vfma(s, p3, a23)
            # unrolled on purpose: one named accumulator per vector register
            vstore(w, w0 + k0, a00)
            vstore(w, w0 + k1, a01)
            vstore(w, w0 + k2, a02)
            if VECTORS == 4:
                vstore(w, w0 + k3, a03)
            vstore(w, w1 + k0, a10)
            vstore(w, w1 + k1, a11)
            vstore(w, w1 + k2, a12)
            if VECTORS == 4:
                vstore(w, w1 + k3, a13)
            vstore(w, w2 + k0, a20)
            vstore(w, w2 + k1, a21)
            vstore(w, w2 + k2, a22)
            if VECTORS == 4:
                vstore(w, w2 + k3, a23)
    for j in range(n_out):
        row = w_off + j * n_in
        for k in range(full, n_in):
            total = decay * w[row + k]
            for i in range(batch):
                total += alpha * d[d_off + j * batch + i] * x[i * n_in + k]
            w[row + k] = total


@kernel
def combine_rows(out, o_off, o_stride, n_rows, width, coef, c_off, c_row, c_col, alpha,
                 src, s_off, s_stride, n_src, decay):
    """out[r, :width] ← decay·out[r, :width] + α Σ_s coef[r, s]·src[s, :width], r < n_rows.

    Row r of out starts at o_off + r·o_stride, row s of src at s_off + s·s_stride, and
    coef[r, s] is coef[c_off + r·c_row + s·c_col], so a transposed W is only other strides.
    decay = 0 writes out without reading it. Blocks of 4 rows by 2 vectors: 8 accumulators,
    one fused multiply-add per s each; the vectors past `width` are masked off.
    """
    lanes = vlanes(out)
    last_row = n_rows - 1
    zero = vzero(out)
    for r0 in range(0, n_rows, 4):
        r1, r2, r3 = min(r0 + 1, last_row), min(r0 + 2, last_row), min(r0 + 3, last_row)
        o0, o1, o2, o3 = o_off + r0 * o_stride, o_off + r1 * o_stride, o_off + r2 * o_stride, o_off + r3 * o_stride
        e0, e1, e2, e3 = c_off + r0 * c_row, c_off + r1 * c_row, c_off + r2 * c_row, c_off + r3 * c_row
        for k in range(0, width, 2 * lanes):
            n0, n1 = width - k, width - k - lanes
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = zero
            if decay != 0.0:
                a00 = vfma(decay, vload_first(out, o0 + k, n0), zero)
                a01 = vfma(decay, vload_first(out, o0 + k + lanes, n1), zero)
                a10 = vfma(decay, vload_first(out, o1 + k, n0), zero)
                a11 = vfma(decay, vload_first(out, o1 + k + lanes, n1), zero)
                a20 = vfma(decay, vload_first(out, o2 + k, n0), zero)
                a21 = vfma(decay, vload_first(out, o2 + k + lanes, n1), zero)
                a30 = vfma(decay, vload_first(out, o3 + k, n0), zero)
                a31 = vfma(decay, vload_first(out, o3 + k + lanes, n1), zero)
            for s in range(n_src):
                q = s_off + s * s_stride + k
                p0, p1 = vload_first(src, q, n0), vload_first(src, q + lanes, n1)
                column = s * c_col
                c = alpha * sload(coef, e0 + column)
                a00, a01 = vfma(c, p0, a00), vfma(c, p1, a01)
                c = alpha * sload(coef, e1 + column)
                a10, a11 = vfma(c, p0, a10), vfma(c, p1, a11)
                c = alpha * sload(coef, e2 + column)
                a20, a21 = vfma(c, p0, a20), vfma(c, p1, a21)
                c = alpha * sload(coef, e3 + column)
                a30, a31 = vfma(c, p0, a30), vfma(c, p1, a31)
            vstore_first(out, o0 + k, a00, n0)
            vstore_first(out, o0 + k + lanes, a01, n1)
            vstore_first(out, o1 + k, a10, n0)
            vstore_first(out, o1 + k + lanes, a11, n1)
            vstore_first(out, o2 + k, a20, n0)
            vstore_first(out, o2 + k + lanes, a21, n1)
            vstore_first(out, o3 + k, a30, n0)
            vstore_first(out, o3 + k + lanes, a31, n1)


@kernel
def transpose(src, s_off, rows, cols, dst, d_off):
    """dst[d_off:] ← the rows×cols block at src[s_off:] transposed (both by rows)."""
    for r in range(rows):
        for c in range(cols):
            dst[d_off + c * rows + r] = src[s_off + r * cols + c]


@kernel
def layer_forward(params, w_off, n_in, n_out, acts, a_off, batch, zs, z_off, output, transposes):
    """z^l = W^l a^{l-1} (no bias) for a layer l > 1, a^{l-1} a hidden (n_{l-1}, B) block: into
    an (n_l, B) block, or for the output layer into its (B, n_L) block by way of transposes."""
    out, o_off = zs, z_off
    if output:
        out, o_off = transposes, I0
    combine_rows(out=out, o_off=o_off, o_stride=batch, n_rows=n_out, width=batch,
                 coef=params, c_off=w_off, c_row=n_in, c_col=I1, alpha=1.0,  # W^l[j, k]
                 src=acts, s_off=a_off, s_stride=batch, n_src=n_in, decay=0.0)
    if output:
        transpose(transposes, I0, n_out, batch, zs, z_off)


@kernel
def layer_backward(params, w_off, n_in, n_out, deltas, d_off, batch, output, target, t_off, transposes):
    """∂C/∂a^{l-1} = W^lᵀ δ^l into target's (n_{l-1}, B) block, for a layer l > 1; δ^l is the
    output's (B, n_L) block when `output` (transposed into transposes first), else (n_l, B)."""
    src, s_off = deltas, d_off
    if output:
        transpose(deltas, d_off, batch, n_out, transposes, I0)
        src, s_off = transposes, I0
    combine_rows(out=target, o_off=t_off, o_stride=batch, n_rows=n_in, width=batch,
                 coef=params, c_off=w_off, c_row=I1, c_col=n_in, alpha=1.0,  # W^l[j, k] read as Wᵀ
                 src=src, s_off=s_off, s_stride=batch, n_src=n_out, decay=0.0)


@kernel
def layer_update(params, w_off, n_in, n_out, alpha, deltas, d_off, batch, output, acts, a_off, decay,
                 transposes):
    """W^l ← decay·W^l + α δ^l a^{l-1}ᵀ for a layer l > 1, a^{l-1} a hidden (n_{l-1}, B) block;
    its transpose goes to transposes, so that rows of W^l are combinations of contiguous rows.
    δ^l[j, i] is read from an (n_l, B) block, or from the output's (B, n_L) block."""
    transpose(acts, a_off, n_in, batch, transposes, I0)
    c_row, c_col = batch, I1
    if output:
        c_row, c_col = I1, n_out
    combine_rows(out=params, o_off=w_off, o_stride=n_in, n_rows=n_out, width=n_in,
                 coef=deltas, c_off=d_off, c_row=c_row, c_col=c_col, alpha=alpha,
                 src=transposes, s_off=I0, s_stride=n_in, n_src=batch, decay=decay)
