"""The single-neuron chain of NNDL ch. 5: factors, gradient ratios, growth ranges."""

import math

import numpy as np
import pytest

from vgrad.core.errors import InputError
from vgrad.core.lab.book import EXPLODING_FACTOR as BOOK_EXPLODING_FACTOR
from vgrad.core.lab.book import WIDEST_GROWTH_RANGE as BOOK_WIDEST_GROWTH_WIDTH
from vgrad.core.lab.book import WIDEST_GROWTH_W as BOOK_WIDEST_GROWTH_WEIGHT
from vgrad.core.lab.chain import (
    MAX_NEURONS,
    Chain,
    adjusted,
    classify,
    default_chain,
    exploding_chain,
    forward,
    growth_range,
    growth_range_width,
    sigmoid,
    sigmoid_prime,
    widest_growth_range,
)


def random_chain(neurons: int, seed: int) -> Chain:
    """The book's setup: w_j, b_j ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    return Chain(tuple(rng.normal(size=neurons)), tuple(rng.normal(size=neurons)), float(rng.random()))


def quadratic_cost(chain: Chain, y: float = 0.0) -> float:
    """C = (a_n - y)^2 / 2, from a plain forward pass."""
    a = chain.x
    for w, b in zip(chain.weights, chain.biases):
        a = 1.0 / (1.0 + math.exp(-(w * a + b)))
    return 0.5 * (a - y) ** 2


def bias_gradient_by_finite_difference(chain: Chain, index: int, h: float = 1e-6) -> float:
    """dC/db_{index+1} by central differences."""
    up = adjusted(chain, index, bias_step=h)
    down = adjusted(chain, index, bias_step=-h)
    return (quadratic_cost(up) - quadratic_cost(down)) / (2 * h)


def test_sigmoid_and_its_derivative_are_stable_and_match_the_formula():
    for z in (-3.0, -0.5, 0.0, 0.5, 3.0):
        s = 1.0 / (1.0 + math.exp(-z))
        assert sigmoid(z) == pytest.approx(s, rel=1e-12)
        assert sigmoid_prime(z) == pytest.approx(s * (1 - s), rel=1e-12)
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0
    assert sigmoid_prime(0.0) == 0.25


def test_forward_gives_z_a_sigma_prime_and_factors():
    chain = Chain((2.0, -1.0, 0.5), (0.1, 0.2, -0.3), x=0.7)
    state = forward(chain)
    a = 0.7
    for neuron, w, b in zip(state.neurons, chain.weights, chain.biases):
        z = w * a + b
        assert neuron.input_activation == pytest.approx(a)
        assert neuron.z == pytest.approx(z)
        a = sigmoid(z)
        assert neuron.activation == pytest.approx(a)
        assert neuron.sigma_prime == pytest.approx(sigmoid_prime(z))
        assert neuron.factor == pytest.approx(w * sigmoid_prime(z))
    assert [neuron.j for neuron in state.neurons] == [1, 2, 3]


def test_default_chain_vanishes_with_every_factor_below_a_quarter():
    state = forward(default_chain())
    assert state.chain.neurons == 4
    assert all(0 < f < 0.25 for f in state.factors)
    assert all(neuron.kind == "vanishing" for neuron in state.neurons)
    assert state.relative_gradients[-1] == 1.0
    assert state.first_over_last < 0.05
    assert state.kind == "vanishing"


@pytest.mark.parametrize("seed", range(5))
def test_relative_gradient_is_the_product_formula(seed):
    state = forward(random_chain(5, seed))
    primes = [neuron.sigma_prime for neuron in state.neurons]
    for j in range(5):
        expected = primes[j] / primes[-1] * math.prod(state.factors[j + 1 :])
        assert state.relative_gradients[j] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_relative_gradient_matches_finite_differences_of_the_cost(seed):
    chain = random_chain(4, seed)
    state = forward(chain)
    last = bias_gradient_by_finite_difference(chain, 3)
    for j in range(4):
        ratio = bias_gradient_by_finite_difference(chain, j) / last
        assert state.relative_gradients[j] == pytest.approx(ratio, rel=1e-5)


def test_gradient_kind_classifies_the_relative_gradient_not_the_factor():
    chain = adjusted(default_chain(), 3, weight_step=6.0)  # w_4 = 7 with sigma'(z_4) tiny
    third = forward(chain).neurons[2]
    assert third.kind == "vanishing"
    assert third.relative_gradient == pytest.approx(third.sigma_prime * 7.0)
    assert third.gradient_kind == "exploding"


def test_book_exploding_example_gives_factors_of_25():
    state = forward(exploding_chain(6))
    assert all(neuron.z == 0.0 for neuron in state.neurons)
    assert state.factors == (BOOK_EXPLODING_FACTOR,) * 6
    assert all(neuron.kind == "exploding" for neuron in state.neurons)
    assert state.first_over_last == pytest.approx(BOOK_EXPLODING_FACTOR**5)
    assert state.kind == "exploding"


def test_exploding_biases_are_minus_w_times_the_previous_activation():
    chain = exploding_chain(4, x=0.3)
    assert chain.weights == (100.0,) * 4
    assert chain.biases == pytest.approx((-30.0, -50.0, -50.0, -50.0))


def test_classify_has_a_neutral_band_around_one():
    assert classify(0.5) == "vanishing"
    assert classify(-0.89) == "vanishing"
    assert classify(0.9) == classify(1.0) == classify(-1.1) == "neutral"
    assert classify(1.11) == classify(-25.0) == "exploding"


def test_adjusted_changes_one_neuron_only():
    chain = adjusted(default_chain(), 2, weight_step=0.5, bias_step=-1.0)
    assert chain.weights == (1.0, 1.0, 1.5, 1.0)
    assert chain.biases == (0.0, 0.0, -1.0, 0.0)


def test_chain_rejects_bad_shapes():
    with pytest.raises(InputError):
        Chain((1.0, 1.0), (0.0,))
    with pytest.raises(InputError):
        Chain((1.0,), (0.0,))


@pytest.mark.parametrize("neurons", [1, MAX_NEURONS + 1, 1_000_000_000])
def test_a_chain_length_outside_the_limits_is_refused_before_anything_is_built(neurons):
    for build in (default_chain, exploding_chain):
        with pytest.raises(InputError, match=f"--neurons {neurons}"):
            build(neurons)


def brute_force_growth_set(w: float, b: float, points: int = 200_001) -> np.ndarray:
    """Every grid point a in [0, 1] with |w sigma'(w a + b)| >= 1."""
    a = np.linspace(0.0, 1.0, points)
    z = w * a + b
    s = 1.0 / (1.0 + np.exp(-z))
    return a[np.abs(w * s * (1 - s)) >= 1.0]


@pytest.mark.parametrize(
    "w, b",
    [(5.0, -2.5), (6.9, -3.45), (-6.9, 3.45), (10.0, -1.0), (100.0, -50.0), (-20.0, 15.0), (8.0, 0.5)],
)
def test_growth_range_matches_a_brute_force_grid(w, b):
    inside = brute_force_growth_set(w, b)
    low, high = growth_range(w, b)
    step = 1.0 / 200_000
    assert low == pytest.approx(inside.min(), abs=step)
    assert high == pytest.approx(inside.max(), abs=step)
    assert np.all(np.diff(inside) < 1.5 * step)  # one interval, no gaps


@pytest.mark.parametrize("w, b", [(3.99, -2.0), (-2.0, 1.0), (1.0, 0.0), (10.0, 20.0), (10.0, -30.0)])
def test_growth_range_is_none_when_small_weight_or_outside(w, b):
    assert growth_range(w, b) is None
    assert brute_force_growth_set(w, b).size == 0


@pytest.mark.parametrize("w", [4.5, 6.9, 12.0, -30.0])
def test_growth_range_width_equals_the_book_formula(w):
    size = abs(w)
    book = (2 / size) * math.log(size * (1 + math.sqrt(1 - 4 / size)) / 2 - 1)
    assert growth_range_width(w) == pytest.approx(book, rel=1e-12)
    low, high = growth_range(w, -w / 2)  # centred on a = 1/2, where it fits inside [0, 1]
    assert high - low == pytest.approx(book, rel=1e-12)
    assert growth_range_width(3.0) == 0.0


def test_widest_growth_range_is_about_045_at_about_69():
    w_star, width = widest_growth_range()
    assert w_star == pytest.approx(BOOK_WIDEST_GROWTH_WEIGHT, abs=0.05)
    assert width == pytest.approx(BOOK_WIDEST_GROWTH_WIDTH, abs=0.01)
    grid = np.linspace(4.0, 40.0, 36_001)
    assert width >= max(growth_range_width(w) for w in grid) - 1e-12
