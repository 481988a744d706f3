"""The register-blocked products: the same numbers as numpy for any shape, nothing written outside
the result, and an inner loop that stays as written (accumulators in registers) in any caller."""

import re

import numpy as np
import pytest
from numba import njit

from vgrad.core.engine.simd import panels
from vgrad.core.engine.simd.lanes import simd_available

pytestmark = pytest.mark.skipif(not simd_available(), reason="needs a SIMD target (target.PATH)")
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-4}


def packed_product(a: np.ndarray, b: np.ndarray, alpha: float, beta: float, c: np.ndarray,
                   columns: np.ndarray) -> np.ndarray:
    """c after gemm_panels(α a b + β c), a and b packed the way the engine packs them."""
    m, k_dim = a.shape
    n = b.shape[1]
    dtype = c.dtype
    tiles = np.zeros(-(-m // panels.TILE_ROWS) * panels.TILE_ROWS * k_dim, dtype)
    panels.pack_tiles(np.ascontiguousarray(a).ravel(), 0, k_dim, m, k_dim, tiles)
    b_panels = np.zeros(panels.packed_size(k_dim, n, dtype), dtype)
    panels.pack_panels(np.ascontiguousarray(b), b_panels)
    block = np.zeros(panels.TILE_ROWS * panels.panel_width(dtype), dtype)
    out = c.copy().ravel()
    panels.gemm_panels(m, n, k_dim, tiles, b_panels, alpha, beta, out, 0, c.shape[1], block, columns)
    return out.reshape(c.shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, k_dim, n", [(30, 609, 1000), (7, 13, 5), (11, 1, 33), (1, 40, 17)])
def test_gemm_panels_is_the_product_for_any_shape_with_and_without_beta(dtype, m, k_dim, n):
    rng = np.random.default_rng(m + n)
    a, b = rng.standard_normal((m, k_dim)).astype(dtype), rng.standard_normal((k_dim, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(exact).max() + 1
    empty = np.empty(0, np.int64)
    assert np.abs(packed_product(a, b, 0.5, 0.0, c, empty) - 0.5 * exact).max() / scale < TOLERANCE[dtype]
    assert np.abs(packed_product(a, b, 1.0, 2.0, c, empty) - (exact + 2 * c)).max() / scale < TOLERANCE[dtype]


def test_gemm_panels_scatters_column_q_to_columns_q():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((6, 9)), rng.standard_normal((9, 4))
    columns = np.array([5, 0, 2, 7], dtype=np.int64)
    wide = packed_product(a, b, 1.0, 0.0, np.zeros((6, 8)), columns)
    np.testing.assert_allclose(wide[:, columns], a @ b, rtol=1e-12, atol=1e-12)
    assert not wide[:, [1, 3, 4, 6]].any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("transposed", [False, True], ids=["W a", "W^T delta"])
@pytest.mark.parametrize("m, k_dim, n", [(30, 30, 1000), (17, 23, 1001), (panels.TILE_ROWS, 3, 32), (31, 1, 40)])
def test_rows_product_is_the_product_in_place_and_writes_nothing_outside_c(dtype, transposed, m, k_dim, n):
    """A hidden layer's W a (A read by rows) or Wᵀ δ (by columns), B and C inside larger buffers:
    every entry of C right, however the last blocks overlap, and the entries around C untouched."""
    rng = np.random.default_rng(m * n)
    weights = rng.standard_normal((k_dim, m) if transposed else (m, k_dim)).astype(dtype)
    b = rng.standard_normal((k_dim, n)).astype(dtype)
    a_buffer = np.concatenate([np.full(3, np.nan, dtype), weights.ravel(), np.full(3, np.nan, dtype)])
    b_buffer = np.concatenate([np.full(5, np.nan, dtype), b.ravel(), np.full(5, np.nan, dtype)])
    c_buffer = np.full(2 + m * n + 7, -1.0, dtype)
    assert panels.fits_rows_product(m, n, c_buffer)
    a_row, a_k = (1, m) if transposed else (k_dim, 1)
    panels.rows_product(m, n, k_dim, a_buffer, 3, a_row, a_k, b_buffer, 5, n, c_buffer, 2, n)
    a = weights.T if transposed else weights
    exact = a.astype(np.float64) @ b.astype(np.float64)
    assert np.abs(c_buffer[2:2 + m * n].reshape(m, n) - exact).max() / (np.abs(exact).max() + 1) < TOLERANCE[dtype]
    assert (c_buffer[:2] == -1).all() and (c_buffer[2 + m * n:] == -1).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_product_declines_c_smaller_than_one_register_block(dtype):
    width = panels.panel_width(dtype)
    c = np.zeros(1, dtype)
    assert panels.fits_rows_product(panels.TILE_ROWS, width, c)
    assert not panels.fits_rows_product(panels.TILE_ROWS - 1, 1000, c)
    assert not panels.fits_rows_product(30, width - 1, c)


def hot_loops(assembly: str) -> list[list[str]]:
    """The innermost loops holding fused multiply-adds: the lines from a label to a jump back to it."""
    lines = assembly.splitlines()
    labels = {m.group(1): i for i, line in enumerate(lines) if (m := re.match(r"^(\.LBB\S+):", line))}
    loops = []
    for i, line in enumerate(lines):
        jump = re.match(r"\s*j\w+\s+(\.LBB\S+)", line)
        if jump and labels.get(jump.group(1), i) < i:
            body = lines[labels[jump.group(1)]:i + 1]
            if any("vfmadd" in b for b in body) and not any(re.match(r"^\.LBB\S+:", b) for b in body[1:]):
                loops.append(body)
    return loops


@pytest.mark.slow
def test_the_register_block_stays_in_registers_inside_the_kernels_that_call_it():
    """numba optimises a callee once more inside each caller; LLVM used to unroll this loop again
    each time, and inside _forward its AVX2 accumulators spilled to the stack (a third slower)."""
    @njit(nogil=True)
    def inner(m, n, k_dim, tiles, b_panels, c, block, columns):
        panels.gemm_panels(m, n, k_dim, tiles, b_panels, 1.0, 0.0, c, 0, n, block, columns)

    @njit(nogil=True)
    def outer(m, n, k_dim, tiles, b_panels, c, block, columns):
        inner(m, n, k_dim, tiles, b_panels, c, block, columns)

    width = panels.panel_width(np.float64)
    outer(1, 1, 1, np.zeros(panels.TILE_ROWS), np.zeros(width), np.zeros(1), np.zeros(panels.TILE_ROWS * width),
          np.empty(0, np.int64))
    [assembly] = outer.inspect_asm().values()
    loops = hot_loops(assembly)
    block_loops = [loop for loop in loops if sum("vfmadd" in line for line in loop) == 2 * panels.TILE_ROWS]
    assert block_loops, [sum("vfmadd" in line for line in loop) for loop in loops]
    for loop in block_loops:
        assert not [line for line in loop if "rsp" in line or "rbp" in line], "\n".join(loop)
