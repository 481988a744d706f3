"""Batch normalisation: the numpy reference and the numba kernels against central finite
differences, for every activation, every init, with and without skip connections."""

import numpy as np
import pytest

from vgrad.core.engine.activations import CODES, COST_CODES, FUNCTIONS
from vgrad.core.engine.batchnorm import BATCH, EVAL, TRAIN, bn_backward, bn_forward
from vgrad.core.engine.batchnorm_reference import (
    MOMENTUM,
    gamma_offsets,
    init_batchnorm_params,
    n_params,
    reference_bn_backward,
    reference_bn_cost,
    reference_bn_forward,
)
from vgrad.core.engine.net import make_layout
from vgrad.core.engine.structs import Net, make_batchnorm, make_buffers
from vgrad.core.spec import INITS, parse_net

H = 1e-6
ROWS = 7


def problem(text: str, seed: int = 0):
    spec = parse_net(text)
    layout = make_layout(spec)
    rng = np.random.default_rng(seed)
    x = rng.random((ROWS, spec.sizes[0]))
    params = init_batchnorm_params(spec, rng, probe_x=x)
    params += 0.1 * rng.standard_normal(params.size)  # β ≠ 0, γ ≠ 1: every term of the backward matters
    y = np.eye(spec.sizes[-1])[rng.integers(0, spec.sizes[-1], ROWS)]
    return spec, layout, params, x, y


def central_differences(spec, layout, params, x, y) -> np.ndarray:
    numeric = np.empty_like(params)
    for i in range(params.size):
        up, down = params.copy(), params.copy()
        up[i] += H
        down[i] -= H
        numeric[i] = (reference_bn_cost(spec, layout, up, x, y) - reference_bn_cost(spec, layout, down, x, y)) / (2 * H)
    return numeric


def assert_close(analytic, numeric):
    scale = max(np.abs(numeric).max(), 1e-3)
    assert np.abs(analytic - numeric).max() <= 1e-6 * scale + 1e-9, np.abs(analytic - numeric).max()


CASES = [f"6-5-5-5-3:{act}{res}:batchnorm" for act in FUNCTIONS for res in ("", ":residual")]
CASES += [f"6-5-5-3:batchnorm:{init}" for init in INITS] + ["6-5-5-3:batchnorm:quadratic"]


def test_gamma_follows_every_weight_and_bias():
    spec, layout, params, _, _ = problem("6-5-4-3:batchnorm")
    assert list(gamma_offsets(layout)) == [layout.n_params, layout.n_params + 5]
    assert params.size == n_params(layout) == layout.n_params + 9


@pytest.mark.parametrize("text", CASES)
def test_reference_matches_finite_differences(text):
    spec, layout, params, x, y = problem(text)
    assert_close(reference_bn_backward(spec, layout, params, x, y), central_differences(spec, layout, params, x, y))


def engine_gradient(spec, layout, params, x, y, mode=BATCH):
    """The numba kernels' forward and backward on one batch: (grads, output, the BatchNorm arrays)."""
    net = Net(params, layout.table, CODES[spec.activation], COST_CODES[spec.cost])
    buffers = make_buffers(layout, len(x), len(x), params.dtype, thin=False)._replace(grads=np.zeros_like(params))
    bn = make_batchnorm(layout, len(buffers.zs), params.dtype)
    out = bn_forward(net, bn, buffers, x, mode)
    bn_backward(net, bn, buffers, x, y)
    return buffers.grads, buffers.acts[out:out + y.size].reshape(y.shape), bn, (net, buffers)


@pytest.mark.parametrize("text", CASES)
def test_numba_matches_the_reference(text):
    spec, layout, params, x, y = problem(text)
    grads, output, _, _ = engine_gradient(spec, layout, params, x, y)
    assert np.allclose(output, reference_bn_forward(spec, layout, params, x)[1], rtol=1e-12, atol=1e-14)
    assert_close(grads, reference_bn_backward(spec, layout, params, x, y))


@pytest.mark.parametrize("act", list(FUNCTIONS))
def test_numba_matches_finite_differences_in_float64(act):
    spec, layout, params, x, y = problem(f"6-5-5-5-3:{act}:residual:batchnorm", seed=1)
    assert_close(engine_gradient(spec, layout, params, x, y)[0], central_differences(spec, layout, params, x, y))


def test_float32_agrees_with_float64():
    spec, layout, params, x, y = problem("6-5-5-3:tanh:batchnorm")
    grads64 = engine_gradient(spec, layout, params, x, y)[0]
    grads32 = engine_gradient(spec, layout, params.astype(np.float32), x.astype(np.float32),
                              y.astype(np.float32))[0]
    assert np.allclose(grads32, grads64, rtol=1e-3, atol=1e-5)


def test_training_moves_the_running_averages_and_evaluation_uses_them():
    spec, layout, params, x, y = problem("6-5-5-3:batchnorm")
    _, batch_output, b, (net, buffers) = engine_gradient(spec, layout, params, x, y, mode=TRAIN)
    z1 = x @ layout.weight(params, 0).T
    assert np.allclose(b.run_means[:5], MOMENTUM * z1.mean(axis=0))
    assert np.allclose(b.run_vars[:5], (1 - MOMENTUM) + MOMENTUM * z1.var(axis=0, ddof=1))
    # evaluating with running averages equal to the batch's own statistics gives the batch's output
    caches = reference_bn_forward(spec, layout, params, x)[0]
    running = ([c[4] for c in caches], [c[5] for c in caches])
    assert np.allclose(reference_bn_forward(spec, layout, params, x, running)[1], batch_output)
    b.run_means[:], b.run_vars[:] = np.concatenate(running[0]), np.concatenate(running[1])
    out = bn_forward(net, b, buffers, x, EVAL)
    assert np.allclose(buffers.acts[out:out + y.size].reshape(y.shape), batch_output)
