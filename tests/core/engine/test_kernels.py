"""The numba kernels equal the plain-numpy reference, and both equal finite differences."""

import numpy as np
import pytest

from vgrad.core.engine import kernels
from vgrad.core.engine.net import (
    activation_code,
    cost_code,
    init_params,
    make_layout,
    reference_backward,
    reference_cost,
    reference_forward,
)
from vgrad.core.engine.structs import Hyper, Net, make_buffers
from vgrad.core.spec import parse_net

SPECS = ["784-30-30-30-30-10", "12-6-6-6-4:relu:he:residual", "12-6-6-4:tanh:xavier:quadratic",
         "12-6-6-6-4:leaky_relu:residual", "12-6-6-4:elu:large", "12-5-5-5-4:sigmoid:residual"]


def kernel_gradients(spec, params, x, y):
    layout = make_layout(spec)
    net = Net(params, layout.table, activation_code(spec), cost_code(spec))
    buffers = make_buffers(layout, len(x), len(x), params.dtype, thin=False)
    out = kernels.forward(net, buffers, x)
    cost = kernels.output_cost(buffers.acts, out, y, net.cost_code)
    kernels.backward(net, buffers, x, y)
    return buffers.grads, cost, buffers.acts[out:out + y.size].reshape(y.shape)


def update(layout, params, grads, eta, lmbda, clip):
    """kernels.update with the given gradient, n = 10."""
    buffers = make_buffers(layout, 1, 1, params.dtype, thin=False)
    buffers.grads[:] = grads
    kernels.update(Net(params, layout.table, 0, 0), buffers, Hyper(eta, lmbda, clip, n_train=10, batch_size=1))


def batch(spec, rows=17, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, spec.sizes[0]))
    y = np.eye(spec.sizes[-1])[rng.integers(0, spec.sizes[-1], rows)]
    return x, y


@pytest.mark.parametrize("text", SPECS)
def test_kernels_equal_the_reference(text):
    spec = parse_net(text)
    params = init_params(spec, np.random.default_rng(0))
    x, y = batch(spec)
    grads, cost, output = kernel_gradients(spec, params, x, y)
    reference_grads, _ = reference_backward(spec, make_layout(spec), params, x, y)
    _, activations = reference_forward(spec, make_layout(spec), params, x)
    np.testing.assert_allclose(output, activations[-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads, reference_grads, rtol=0, atol=1e-10)
    assert cost == pytest.approx(reference_cost(spec, activations[-1], y), abs=1e-10)


@pytest.mark.parametrize("text", ["8-5-5-5-3", "8-5-5-5-3:relu:residual:he", "8-4-4-3:tanh:quadratic",
                                  "8-4-4-3:elu"])
def test_gradients_match_central_finite_differences(text):
    """∂C/∂w and ∂C/∂b from backprop equal (C(p + h) − C(p − h)) / 2h for every parameter."""
    spec = parse_net(text)
    params = init_params(spec, np.random.default_rng(3))
    x, y = batch(spec, rows=6, seed=4)
    grads, _, _ = kernel_gradients(spec, params, x, y)
    layout = make_layout(spec)

    def cost(p):
        return reference_cost(spec, reference_forward(spec, layout, p, x)[1][-1], y)

    h = 1e-6
    numeric = np.empty_like(params)
    for k in range(len(params)):
        bumped = params.copy()
        bumped[k] += h
        up = cost(bumped)
        bumped[k] -= 2 * h
        numeric[k] = (up - cost(bumped)) / (2 * h)
    np.testing.assert_allclose(grads, numeric, rtol=1e-5, atol=1e-8)


def test_update_applies_weight_decay_to_weights_only():
    spec = parse_net("4-3-2")
    layout = make_layout(spec)
    params = np.ones(layout.n_params)
    grads = np.full(layout.n_params, 0.5)
    update(layout, params, grads, 0.1, 5.0, 0.0)
    mask = layout.weight_mask()
    np.testing.assert_allclose(params[mask], (1 - 0.1 * 5.0 / 10) - 0.1 * 0.5)
    np.testing.assert_allclose(params[~mask], 1 - 0.1 * 0.5)


def test_clipping_scales_the_step_to_the_global_norm():
    spec = parse_net("4-3-2")
    layout = make_layout(spec)
    params = np.zeros(layout.n_params)
    grads = np.full(layout.n_params, 3.0)
    update(layout, params, grads, 1.0, 0.0, 1.0)
    assert np.linalg.norm(params) == pytest.approx(1.0)


def test_float32_kernels_agree_with_float64():
    spec = parse_net("784-30-30-10")
    params = init_params(spec, np.random.default_rng(0))
    x, y = batch(spec)
    grads64, _, _ = kernel_gradients(spec, params, x, y)
    grads32, _, _ = kernel_gradients(spec, params.astype(np.float32), x.astype(np.float32),
                                     y.astype(np.float32))
    assert grads32.dtype == np.float32
    np.testing.assert_allclose(grads32, grads64, atol=1e-5)
