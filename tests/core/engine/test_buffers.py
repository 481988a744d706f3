"""Buffers the SIMD kernels read start on a 64-byte cache line."""

import numpy as np
import pytest

from vgrad.core.config import Config
from vgrad.core.engine.simd.buffers import CACHE_LINE, aligned, aligned_copy, aligned_empty
from vgrad.core.spec import parse_net
from vgrad.core.train.trainer import Trainer


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("count", [1, 7, 784, 23_860])
def test_aligned_empty_starts_on_a_cache_line(count, dtype):
    array = aligned_empty(count, dtype)
    assert array.ctypes.data % CACHE_LINE == 0
    assert array.shape == (count,) and array.dtype == dtype and array.flags.c_contiguous


def test_aligned_copy_keeps_values_and_shape_and_casts():
    source = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # not contiguous
    copy = aligned_copy(source, np.float64)
    assert copy.ctypes.data % CACHE_LINE == 0 and copy.dtype == np.float64
    np.testing.assert_array_equal(copy, source)


def test_aligned_returns_an_array_that_already_is_aligned_itself():
    array = aligned_empty(10, np.float64)
    array[:] = 1.0  # not the garbage of an empty array: casting that to float32 may overflow
    assert aligned(array) is array
    assert aligned(array, np.float32) is not array


@pytest.mark.parametrize("mode", ["speed", "sgd"])
def test_every_trainer_buffer_is_aligned(mnist, mode):
    trainer = Trainer(parse_net("784-30-30-10"), mnist, Config(mode=mode))
    arrays = {"params": trainer.params, "probe_x": trainer.probe_x, "probe_y": trainer.probe_y,
              **trainer.buffers._asdict(), **trainer.panels._asdict()}
    del arrays["speeds"], arrays["inputs"]  # float64 and int64 bookkeeping, not read by the SIMD kernels
    del arrays["rows"], arrays["columns"]  # the compressed probe set: read one number at a time
    for name, array in arrays.items():
        assert array.size == 0 or array.ctypes.data % CACHE_LINE == 0, name  # empty: no SIMD path
