"""Norms of many arrays read in place: numpy's norms for any length, float32 summed in float64,
and the first entries of the arrays that ask for them."""

import numpy as np
import pytest

from vgrad.core.engine.gradient_norms import norms_and_heads


def read(arrays: list[np.ndarray], heads: list[int]) -> np.ndarray:
    out = np.full(len(arrays) + sum(heads), np.nan)
    norms_and_heads(np.array([a.ctypes.data for a in arrays], dtype=np.int64),
                    np.array([a.size for a in arrays], dtype=np.int64), np.array(heads, dtype=np.int64),
                    arrays[0][:0], out)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_norm_is_numpys_for_any_length(dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(size).astype(dtype) for size in (0, 1, 7, 33, 64, 1000, 200_704)]
    out = read(arrays, [0] * len(arrays))
    expected = [np.linalg.norm(a.astype(np.float64)) for a in arrays]
    np.testing.assert_allclose(out, expected, rtol=1e-13)


def test_the_first_entries_follow_the_norms_in_order():
    arrays = [np.arange(1.0, 9.0), np.array([3.0, 4.0]), np.arange(5.0)]
    out = read(arrays, [6, 2, 0])
    assert out[3:].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 3.0, 4.0]
    assert out[1] == 5.0


@pytest.mark.parametrize("value", [1e-30, 1e30])
def test_float32_squares_neither_underflow_nor_overflow(value):
    """A vanishing gradient of 1e-30 squares to 1e-60, below float32's range; 1e30 squares above it."""
    array = np.full(1000, value, dtype=np.float32)
    assert read([array], [0])[0] == pytest.approx(np.sqrt(1000) * float(np.float32(value)), rel=1e-12)
