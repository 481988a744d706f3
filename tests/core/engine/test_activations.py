"""Each activation's derivative is its slope; σ' never exceeds 1/4."""

import numpy as np
import pytest

from vgrad.core.engine.activations import FUNCTIONS, sigmoid_prime

Z = np.linspace(-6, 6, 241)
Z = Z[np.abs(Z) > 1e-3]  # the kinks of relu and friends sit at 0


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_derivative_matches_the_central_difference(name):
    f, f_prime = FUNCTIONS[name]
    h = 1e-6
    np.testing.assert_allclose(f_prime(Z), (f(Z + h) - f(Z - h)) / (2 * h), atol=1e-7)


def test_sigmoid_slope_peaks_at_a_quarter():
    assert sigmoid_prime(0.0) == 0.25
    assert sigmoid_prime(Z).max() <= 0.25


def test_relu_family_passes_gradient_unchanged_for_positive_z():
    for name in ("relu", "leaky_relu", "elu"):
        assert np.all(FUNCTIONS[name][1](Z[Z > 0]) == 1.0)
    assert np.all(FUNCTIONS["relu"][1](Z[Z < 0]) == 0.0)
    assert np.all(FUNCTIONS["leaky_relu"][1](Z[Z < 0]) == pytest.approx(0.01))
