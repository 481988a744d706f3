"""The thin-product kernels compute the same products as BLAS, for any shape."""

import numpy as np
import pytest

from vgrad.core.engine import kernels
from vgrad.core.engine.net import activation_code, cost_code, init_params, make_layout
from vgrad.core.engine.simd.lanes import simd_available
from vgrad.core.engine.simd.thin_products import combine_rows, fused_weight_update, weighted_inputs
from vgrad.core.engine.structs import Buffers, Hyper, Net, make_buffers
from vgrad.core.spec import parse_net

pytestmark = pytest.mark.skipif(not simd_available(), reason="needs a SIMD target (target.PATH)")

# (n_out, n_in, batch): the book's shape, then every kind of tail (rows past a block of 3,
# images past a block of 5, columns past the last whole vector, fewer columns than a vector)
SHAPES = [(30, 784, 10), (31, 790, 7), (4, 37, 1), (2, 5, 13), (100, 64, 32)]
TOLERANCE = {np.float64: 1e-13, np.float32: 1e-5}


def operands(n_out, n_in, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n_out * n_in).astype(dtype)
    x = rng.random(batch * n_in).astype(dtype)
    delta = rng.standard_normal(n_out * batch).astype(dtype)
    return w, x, delta


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_weighted_inputs_are_w_times_x_transposed_in_the_features_by_batch_layout(shape, dtype):
    n_out, n_in, batch = shape
    w, x, _ = operands(n_out, n_in, batch, dtype)
    z = np.full(3 + n_out * batch, np.nan, dtype=dtype)
    weighted_inputs(w, 0, n_in, n_out, x, batch, z, 3)
    expected = w.reshape(n_out, n_in).astype(np.float64) @ x.reshape(batch, n_in).T.astype(np.float64)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(z[3:].reshape(n_out, batch) / scale, expected / scale, rtol=0,
                               atol=TOLERANCE[dtype])
    assert np.isnan(z[:3]).all()  # nothing before the offset is touched


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_fused_weight_update_is_decay_times_w_plus_alpha_delta_x(shape, dtype):
    n_out, n_in, batch = shape
    w, x, delta = operands(n_out, n_in, batch, dtype)
    padded = np.concatenate([np.zeros(2, dtype), delta])
    updated = w.copy()
    fused_weight_update(updated, 0, n_in, n_out, -0.3, padded, 2, x, batch, 0.99)
    expected = (0.99 * w.reshape(n_out, n_in).astype(np.float64)
                - 0.3 * delta.reshape(n_out, batch).astype(np.float64) @ x.reshape(batch, n_in).astype(np.float64))
    np.testing.assert_allclose(updated.reshape(n_out, n_in), expected, rtol=0,
                               atol=TOLERANCE[dtype] * np.abs(expected).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("width", [1, 10, 16, 17, 30, 40])
def test_combine_rows_sums_coefficient_times_source_rows_with_any_strides(width, dtype):
    """out = decay·out + α C S for C read transposed (the δ-propagation case, Wᵀ), and with
    decay 0 out is written without being read (NaN there stays out of the result)."""
    rng = np.random.default_rng(width)
    n_rows, n_src = 7, 5
    coef = rng.standard_normal(n_src * n_rows).astype(dtype)  # stored as (n_src, n_rows): C = coefᵀ
    src = rng.standard_normal(1 + n_src * width).astype(dtype)
    c = coef.reshape(n_src, n_rows).T.astype(np.float64)
    s = src[1:].reshape(n_src, width).astype(np.float64)
    out = np.full(n_rows * width, np.nan, dtype=dtype)
    combine_rows(out, 0, width, n_rows, width, coef, 0, 1, n_rows, 2.0, src, 1, width, n_src, 0.0)
    np.testing.assert_allclose(out.reshape(n_rows, width), 2.0 * c @ s, rtol=0, atol=TOLERANCE[dtype] * 50)
    before = rng.standard_normal(2 + n_rows * (width + 3)).astype(dtype)  # rows 3 apart, past width
    after = before.copy()
    combine_rows(after, 2, width + 3, n_rows, width, coef, 0, 1, n_rows, -0.5, src, 1, width, n_src, 0.9)
    rows = before[2:].reshape(n_rows, width + 3).astype(np.float64)
    expected = rows.copy()
    expected[:, :width] = 0.9 * rows[:, :width] - 0.5 * c @ s
    np.testing.assert_allclose(after[2:].reshape(n_rows, width + 3), expected, rtol=0,
                               atol=TOLERANCE[dtype] * 50)
    assert after[:2].tolist() == before[:2].tolist()


@pytest.mark.parametrize("text", ["784-30-30-30-30-10", "20-7-7-3:relu:residual:he", "30-11-4:tanh:quadratic"])
@pytest.mark.parametrize("batch_size", [10, 3, 37])
def test_sgd_steps_give_the_same_weights_with_and_without_the_thin_product_kernels(text, batch_size):
    """Ten mini-batches (the last one short when 10 % batch_size ≠ 0) on each path."""
    spec = parse_net(text)
    layout = make_layout(spec)
    rng = np.random.default_rng(5)
    n = 10 * batch_size - 1
    train_x = rng.random((n, spec.sizes[0])).astype(np.float32)
    train_y = np.eye(spec.sizes[-1])[rng.integers(0, spec.sizes[-1], n)]
    order = rng.permutation(n).astype(np.int64)
    results = []
    for thin in (False, True):
        params = init_params(spec, np.random.default_rng(0))
        net = Net(params, layout.table, activation_code(spec), cost_code(spec))
        buffers = make_buffers(layout, batch_size, batch_size, params.dtype, thin=thin)
        hyper = Hyper(eta=0.5, lmbda=5.0, clip=0.0, n_train=n, batch_size=batch_size)
        assert kernels.sgd_steps(net, buffers, hyper, train_x, train_y, order, 0, 10)
        results.append(params)
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=1e-12)


GUARD = 64


def guarded(count, dtype, guards):
    """A view of `count` elements with NaN guard zones on both sides, kept in `guards`."""
    raw = np.full(count + 2 * GUARD, np.nan, dtype=dtype)
    guards.append(raw)
    return raw[GUARD:GUARD + count]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [1, 5, 17])
@pytest.mark.parametrize("text", ["5-1-1-2", "9-2-40", "33-31-17-16-15", "8-16-16-16:tanh:residual"])
def test_sgd_steps_on_the_thin_kernels_write_only_inside_their_buffers(text, batch_size, dtype):
    """Odd widths (one neuron, an output wider than every hidden layer), a short last batch and
    the smallest scratch the Trainer allocates: no guard element changes, and the weights equal
    the BLAS path's."""
    spec = parse_net(text)
    layout = make_layout(spec)
    rng = np.random.default_rng(5)
    n = 3 * batch_size + 1
    train_x = rng.random((n, spec.sizes[0])).astype(np.float32)
    train_y = np.eye(spec.sizes[-1], dtype=dtype)[rng.integers(0, spec.sizes[-1], n)]
    order = rng.permutation(n).astype(np.int64)
    results = []
    for thin in (False, True):
        guards = []
        params = guarded(layout.n_params, dtype, guards)
        params[:] = init_params(spec, np.random.default_rng(0))
        width = layout.activation_width * batch_size
        blocks = [guarded(width, dtype, guards) for _ in range(4)]
        buffers = Buffers(*blocks, grads=guarded(layout.n_params, dtype, guards),
                          xb=guarded(batch_size * spec.sizes[0], dtype, guards),
                          yb=guarded(batch_size * spec.sizes[-1], dtype, guards),
                          transposes=guarded(max(spec.sizes[1:]) * batch_size if thin else 0, dtype, guards),
                          panel_scratch=np.empty(0, dtype), speeds=np.empty(0))
        net = Net(params, layout.table, activation_code(spec), cost_code(spec))
        hyper = Hyper(eta=0.5, lmbda=5.0, clip=0.0, n_train=n, batch_size=batch_size)
        assert kernels.sgd_steps(net, buffers, hyper, train_x, train_y, order, 0, -(-n // batch_size))
        assert all(np.isnan(raw[:GUARD]).all() and np.isnan(raw[-GUARD:]).all() for raw in guards)
        results.append(params.astype(np.float64))
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=TOLERANCE[dtype] * 10)
