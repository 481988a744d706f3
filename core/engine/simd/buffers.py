"""Arrays for the SIMD kernels, aligned to a 64-byte cache line.

A 512-bit load from an address that is not a multiple of 64 spans two cache lines.
numpy only promises 16-byte alignment, so where a buffer landed made the first layer
up to a quarter slower from one process to the next.
"""

from __future__ import annotations

import numpy as np

CACHE_LINE = 64


def aligned_empty(count: int, dtype) -> np.ndarray:
    """An uninitialised 1-D array of `count` elements starting on a cache line."""
    dtype = np.dtype(dtype)
    raw = np.empty(count * dtype.itemsize + CACHE_LINE, dtype=np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start : start + count * dtype.itemsize].view(dtype)


def aligned_copy(array: np.ndarray, dtype=None) -> np.ndarray:
    """A C-ordered copy of array (cast to dtype if given) starting on a cache line."""
    dtype = np.dtype(dtype or array.dtype)
    out = aligned_empty(array.size, dtype).reshape(array.shape)
    out[...] = array
    return out


def aligned(array: np.ndarray, dtype=None) -> np.ndarray:
    """array itself when it is C-ordered, of dtype and on a cache line; else aligned_copy."""
    dtype = np.dtype(dtype or array.dtype)
    if array.dtype == dtype and array.flags.c_contiguous and array.ctypes.data % CACHE_LINE == 0:
        return array
    return aligned_copy(array, dtype)
