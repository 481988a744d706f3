"""Saturated and dead units per hidden layer, counted from the probe pass's z's: against the definitions
in numpy (σ'(z) < 0.01, |tanh z| > 0.97, f(z) = 0 for every example)."""

import numpy as np
import pytest

from vgrad.core.engine import census
from vgrad.core.engine.activations import ELU, LEAKY_RELU, RELU, SIGMOID, TANH, sigmoid_prime

SIZES = (5, 4, 3, 2)  # two hidden layers of 4 and 3 units, then the output
BATCH = 6


def _table() -> np.ndarray:
    table = np.zeros((len(SIZES) - 1, 5), dtype=np.int64)
    table[:, 2] = SIZES[1:]
    return table


def _blocks(rng) -> list[np.ndarray]:
    """z per hidden layer, (units, examples), spread over the saturation bounds."""
    return [rng.normal(0.0, 4.0, (n, BATCH)) for n in SIZES[1:-1]]


def _count(blocks, code: int, units_first: bool = True) -> np.ndarray:
    flat = np.concatenate([(b if units_first else b.T).ravel() for b in blocks] + [np.zeros(BATCH * SIZES[-1])])
    out = np.empty(len(blocks))
    census.count_units(flat, _table(), BATCH, code, units_first, out)
    return out


@pytest.mark.parametrize("units_first", [True, False])
def test_saturation_is_the_share_of_unit_example_pairs_past_the_books_bounds(units_first):
    blocks = _blocks(np.random.default_rng(0))
    np.testing.assert_array_equal(_count(blocks, SIGMOID, units_first),
                                  [np.mean(sigmoid_prime(b) < 0.01) for b in blocks])
    np.testing.assert_array_equal(_count(blocks, TANH, units_first),
                                  [np.mean(np.abs(np.tanh(b)) > 0.97) for b in blocks])
    assert 0 < _count(blocks, SIGMOID).min() and _count(blocks, SIGMOID).max() < 1  # the test data straddles them


@pytest.mark.parametrize("units_first", [True, False])
def test_a_dead_unit_gives_zero_for_every_example(units_first):
    blocks = _blocks(np.random.default_rng(1))
    blocks[0][1] = -np.abs(blocks[0][1])       # ReLU: dead; leaky ReLU and ELU: still pass a gradient
    blocks[0][2] = 0.0                          # zero for every example whatever the activation
    blocks[1][0] = np.abs(blocks[1][0]) + 1     # alive everywhere
    blocks[1][1] = -np.abs(blocks[1][1])
    blocks[1][1][3] = 0.5                       # alive for one example is alive
    relu = [np.mean(np.all(np.maximum(b, 0) == 0, axis=1)) for b in blocks]
    np.testing.assert_array_equal(_count(blocks, RELU, units_first), relu)
    assert _count(blocks, RELU, units_first)[0] >= 2 / 4
    for code in (LEAKY_RELU, ELU):
        np.testing.assert_array_equal(_count(blocks, code, units_first), [1 / 4, 0.0])


def test_sigmoid_and_tanh_saturate_the_relu_family_dies():
    assert census.measures(SIGMOID) == census.measures(TANH) == (True, False)
    assert census.measures(RELU) == census.measures(LEAKY_RELU) == census.measures(ELU) == (False, True)
