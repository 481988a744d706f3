"""What each remedy does to the speed of learning, measured over seeds 0–9 on the mnist probe set.

Measured medians of s_1/s_4 at init (784-30-30-30-30-10): sigmoid+book 0.0085,
relu+he 0.49, sigmoid+residual 1.19, tanh+xavier 0.61; the assertions keep a margin.
"""

import numpy as np
import pytest

from vgrad.core.config import Config
from vgrad.core.lab.book import EXPLODING_FACTOR
from vgrad.core.lab.diagnostics import saturated_fraction
from vgrad.core.lab.reproduce import init_speeds
from vgrad.core.spec import parse_net
from vgrad.core.train.trainer import Trainer

SEEDS = range(10)
DEEP = "784-30-30-30-30-10"


def first_to_last(spec, data):
    speeds = init_speeds(spec, data, SEEDS)
    return float(np.median(speeds[:, 0] / speeds[:, -1]))


@pytest.fixture(scope="module")
def book_ratio(mnist):
    return first_to_last(DEEP, mnist)


def test_sigmoid_with_book_init_learns_over_20x_slower_in_the_first_layer(book_ratio):
    assert book_ratio < 0.05


@pytest.mark.parametrize("remedy", [":relu:he", ":residual", ":tanh:xavier", ":leaky_relu:he", ":elu:he"])
def test_remedies_raise_the_first_to_last_ratio_at_least_5x(mnist, book_ratio, remedy):
    assert first_to_last(DEEP + remedy, mnist) >= 5 * book_ratio


def test_explode_on_the_chain_makes_early_layers_faster_by_about_25_per_layer(mnist):
    speeds = init_speeds("784-1-1-1-1-10:explode", mnist, SEEDS)
    assert np.all(speeds[:, :-1] > speeds[:, 1:]), "every seed: s_1 > s_2 > s_3 > s_4"
    gains = speeds[:, 1:-1] / speeds[:, 2:]   # s_2/s_3 and s_3/s_4: both layers centred at σ'(z) ≈ 1/4
    assert np.all(np.abs(gains / EXPLODING_FACTOR - 1) < 0.05)


def test_explode_on_a_dense_net_saturates_every_neuron_instead(mnist):
    """w = 100 on 30 inputs puts |z| in the thousands: σ'(z) = 0 and nothing learns (reported, not hidden).

    Hidden layers 2–4 (three quarters of the hidden neurons) saturate; layer 1 keeps the book's init.
    """
    trainer = Trainer(parse_net(DEEP + ":explode"), mnist, Config(seed=0))
    assert max(trainer.probe()[0]) < 1e-12
    assert saturated_fraction(trainer.spec, trainer.layout, trainer.params, mnist.probe_x) > 0.6


def test_large_init_saturates_a_third_of_the_hidden_neurons(mnist):
    def fraction(spec):
        trainers = [Trainer(parse_net(spec), mnist, Config(seed=seed)) for seed in SEEDS]
        return np.median([saturated_fraction(t.spec, t.layout, t.params, mnist.probe_x) for t in trainers])
    assert fraction(DEEP + ":large") > 0.2
    assert fraction(DEEP) < 0.01
