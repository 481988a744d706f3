"""The sparse first layer: the product of a compressed matrix and a dense one, equal to numpy's for
any shape and nothing written outside the result; on the probe set, the same bits as the packed
dense product it replaces, chosen when most pixels are zero."""

from collections import OrderedDict

import numpy as np
import pytest

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.engine.simd import sparse
from vgrad.core.engine.simd.lanes import simd_available
from vgrad.core.spec import parse_net
from vgrad.core.train import trainer as training

pytestmark = pytest.mark.skipif(not simd_available(), reason="needs a SIMD target (target.PATH)")
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-4}


def sparse_matrix(rng, rows: int, columns: int, density: float, dtype) -> np.ndarray:
    matrix = rng.standard_normal((rows, columns)).astype(dtype)
    matrix[rng.random((rows, columns)) >= density] = 0.0
    return matrix


def test_compress_keeps_every_nonzero_in_order_and_nothing_else():
    matrix = np.array([[0, 2, 0, 3], [0, 0, 0, 0], [5, 0, 0, 0]], dtype=np.float32)
    compressed = sparse.compress(matrix, np.float64)
    assert compressed.starts.tolist() == [0, 2, 2, 3]
    assert compressed.index.tolist() == [1, 3, 0]
    assert compressed.values.tolist() == [2.0, 3.0, 5.0] and compressed.values.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, k_dim, n, density", [(40, 70, 30, 0.2), (9, 5, 1, 0.5), (13, 33, 33, 0.1),
                                                  (6, 20, 70, 1.0), (5, 8, 3, 0.0)])
def test_sparse_product_is_the_product_for_any_shape_and_writes_only_the_result(dtype, m, k_dim, n, density):
    rng = np.random.default_rng(m * n)
    a = sparse_matrix(rng, m, k_dim, density, dtype)
    b = rng.standard_normal((k_dim, n)).astype(dtype)
    width = sparse.padded_width(n, dtype)
    padded = np.zeros((k_dim, width), dtype)
    padded[:, :n] = b
    # C stored transposed (j·c_col + i), inside NaN guards: every entry of C is written once, nothing else
    guard = 7
    c = np.full(guard + n * m + guard, np.nan, dtype)
    block = np.empty(sparse.block_width(dtype), dtype)
    sparse.sparse_product(m, n, sparse.compress(a, dtype), padded.ravel(), width, 0.5, c, guard, 1, m, block)
    assert np.isnan(c[:guard]).all() and np.isnan(c[guard + n * m:]).all()
    exact = 0.5 * (a.astype(np.float64) @ b.astype(np.float64))
    np.testing.assert_allclose(c[guard:guard + n * m].reshape(n, m).T, exact,
                               rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * (np.abs(exact).max() + 1))


def test_the_scratch_holds_a_block_and_the_widest_operand():
    for dtype in (np.float64, np.float32):
        scratch = np.empty(sparse.scratch_size(30, 784, 1000, dtype), dtype)
        block, operand, width = sparse.split_scratch(scratch, 30, 1000)
        assert block.size == sparse.block_width(dtype) and width == sparse.padded_width(30, dtype) >= 30
        assert operand.size == 1000 * width and block.size + operand.size == scratch.size


def probe_data(density: float, rows=200, inputs=60, classes=4) -> Dataset:
    """Random images with `density` of their pixels nonzero, and the last three pixels zero in all."""
    rng = np.random.default_rng(3)
    x = sparse_matrix(rng, rows, inputs, density, np.float32)
    x = np.abs(x)
    x[:, -3:] = 0.0
    y = rng.integers(0, classes, rows)
    return Dataset(name="sparse", train_x=x, train_y=y, test_x=x, test_y=y, probe_x=x, probe_y=y, n_classes=classes)


def trainer_with(data: Dataset, dtype: str, monkeypatch, most_dense: float) -> training.Trainer:
    """A Trainer whose probe set is compressed when at most `most_dense` of its pixels are nonzero."""
    monkeypatch.setattr(sparse, "SPARSE_DENSITY", most_dense)
    monkeypatch.setattr(training, "_SHARED", OrderedDict())
    return training.Trainer(parse_net("60-33-12-4"), data, Config(mode="speed", dtype=dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compressed_probe_set_gives_the_packed_ones_bits(compiled_kernels, monkeypatch, dtype):
    """Both forms add the same nonzero terms in the same order by fused multiply-adds."""
    data = probe_data(0.2)
    runs = []
    for most_dense in (1.0, 0.0):
        trainer = trainer_with(data, dtype, monkeypatch, most_dense)
        assert trainer.panels.sparse == (most_dense == 1.0)
        assert (trainer.panels.x_panels.size > 0) == (most_dense == 0.0)
        trainer.gradient()
        runs.append((trainer.grads.copy(), trainer.buffers.zs.copy()))
    (sparse_grads, sparse_zs), (packed_grads, packed_zs) = runs
    assert np.array_equal(sparse_grads, packed_grads) and np.array_equal(sparse_zs, packed_zs)
    assert np.count_nonzero(sparse_grads) > 0


def test_mostly_zero_images_are_compressed_and_dense_ones_packed(compiled_kernels, monkeypatch):
    monkeypatch.setattr(training, "_SHARED", OrderedDict())
    mostly_zero = training.Trainer(parse_net("60-33-4"), probe_data(0.2), Config(mode="speed"))
    dense = training.Trainer(parse_net("60-33-4"), probe_data(0.9), Config(mode="speed"))
    assert mostly_zero.panels.sparse and mostly_zero.panels.x_panels.size == 0
    assert not dense.panels.sparse and dense.panels.x_panels.size > 0


def test_the_book_probe_set_is_compressed(mnist):
    """MNIST: about a fifth of the pixels are nonzero."""
    trainer = training.Trainer(parse_net("784-30-30-10"), mnist, Config(mode="speed"))
    assert trainer.panels.sparse
    assert trainer.panels.rows.values.size == np.count_nonzero(mnist.probe_x)
