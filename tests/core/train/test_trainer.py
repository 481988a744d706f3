"""The book's two experiments as record streams: what each record holds and when."""

import numpy as np
import pytest

from vgrad.core.config import Config
from vgrad.core.data import one_hot
from vgrad.core.engine.activations import sigmoid_prime
from vgrad.core.engine.net import make_layout, reference_backward, reference_forward, reference_speeds
from vgrad.core.lab.book import BOOK_NETS
from vgrad.core.spec import parse_net
from vgrad.core.train.experiment import run_experiment
from vgrad.core.train.trainer import Trainer


def records(spec, data, **config):
    return list(run_experiment(parse_net(spec), data, Config(**config)))


def test_speed_mode_records_before_each_step_and_after_the_last(mnist):
    """E epochs: E + 1 records, at epochs 0 … E, so the run ends on the net after its E-th step."""
    run = records("784-30-30-10", mnist, epochs=3)
    assert [(r.epoch, r.step) for r in run] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert all(len(r.speed) == 2 and len(r.neurons) == 2 and len(r.neurons[0]) == 6 for r in run)
    assert all(r.accuracy is None for r in run)


@pytest.mark.parametrize("mode", ["speed", "sgd"])
def test_zero_epochs_give_the_one_measurement_at_initialisation(mnist, mode):
    """--epochs 0: no step is taken, but s_l at init is measured (the summary shows it, not —)."""
    run = records("784-30-30-10", mnist, mode=mode, epochs=0)
    first = records("784-30-30-10", mnist, mode=mode, epochs=1)[0]
    assert [(r.epoch, r.step) for r in run] == [(0, 0)] and run[0].speed == first.speed


def test_speed_is_the_norm_of_the_mean_bias_gradient_on_the_probe_set(mnist):
    """s_l = ‖(1/N) Σ_x δ^l_x‖, not the mean of per-example norms; neurons are its first six entries."""
    spec = parse_net("784-30-30-30-10")
    trainer = Trainer(spec, mnist, Config())
    speed, neurons, _ = trainer.probe()
    y = one_hot(mnist.probe_y, 10)
    _, deltas = reference_backward(trainer.spec, make_layout(trainer.spec), trainer.params, mnist.probe_x, y)
    for layer in range(3):
        mean_delta = deltas[layer].mean(axis=0)
        assert speed[layer] == pytest.approx(np.linalg.norm(mean_delta), rel=1e-10)
        assert neurons[layer] == pytest.approx(tuple(mean_delta[:6]), abs=1e-14)
        per_example = np.linalg.norm(deltas[layer], axis=1).mean()
        assert per_example > 1.1 * speed[layer]  # a different number, even at init


@pytest.mark.parametrize("spec", ["784-3-3-10", "784-1-1-1-1-10", "784-30-2-10"])
def test_neurons_hold_exactly_min_6_width_values_of_their_own_layer(mnist, spec):
    """A narrow layer's bars never read past its own biases into the next layer's."""
    trainer = Trainer(parse_net(spec), mnist, Config())
    speed, neurons, _ = trainer.probe()
    y = one_hot(mnist.probe_y, 10)
    _, deltas = reference_backward(trainer.spec, make_layout(trainer.spec), trainer.params, mnist.probe_x, y)
    for layer, width in enumerate(trainer.spec.sizes[1:-1]):
        assert len(neurons[layer]) == min(6, width)
        assert neurons[layer] == pytest.approx(tuple(deltas[layer].mean(axis=0)[:6]), abs=1e-14)


def test_weight_grad_is_the_norm_of_the_mean_weight_gradient_of_each_hidden_layer(mnist):
    """The second lens: ‖(1/N) Σ_x ∂C_x/∂W^l‖₂ on the probe set, without the L2 term."""
    spec = parse_net("784-30-30-30-10")
    record = next(run_experiment(spec, mnist, Config()))
    trainer = Trainer(spec, mnist, Config())
    layout = make_layout(trainer.spec)
    grads, _ = reference_backward(trainer.spec, layout, trainer.params, mnist.probe_x, one_hot(mnist.probe_y, 10))
    expected = [np.linalg.norm(layout.weight(grads, layer)) for layer in range(3)]
    assert record.weight_grad == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("book", BOOK_NETS, ids=lambda book: book.spec)
def test_init_speeds_are_the_reference_gradient_and_lie_in_the_books_seed_band(mnist, book):
    """Seed 0's first record of each of the book's nets: s_l is the numpy reference's ‖mean δ^l‖,
    inside the 200-seed band [p5, p95] of core/lab/book.py, and each layer learns slower than the next."""
    spec = parse_net(book.spec)
    speed = records(book.spec, mnist, epochs=1)[0].speed
    trainer = Trainer(spec, mnist, Config())  # the same seed: the same initial weights
    _, deltas = reference_backward(trainer.spec, make_layout(trainer.spec), trainer.params, mnist.probe_x,
                                   one_hot(mnist.probe_y, 10))
    assert speed == pytest.approx([np.linalg.norm(d.mean(axis=0)) for d in deltas[:-1]], rel=1e-10)
    for layer, (ours, band) in enumerate(zip(speed, book.bands)):
        assert band.contains(ours), (layer, ours, band)
    assert list(speed) == sorted(speed)


def test_the_same_seed_gives_bit_identical_records(mnist):
    first = records("784-30-30-30-10", mnist, epochs=5, seed=7)
    again = records("784-30-30-30-10", mnist, epochs=5, seed=7)
    other = records("784-30-30-30-10", mnist, epochs=5, seed=8)
    assert first == again
    assert first != other
    sgd = records("784-20-20-10", mnist, mode="sgd", epochs=1, seed=3)
    assert sgd == records("784-20-20-10", mnist, mode="sgd", epochs=1, seed=3)


def test_sgd_mode_measures_accuracy_at_epoch_ends_and_learns(mnist):
    run = records("784-30-10", mnist, mode="sgd", epochs=2, probes_per_epoch=4)
    assert run[0].epoch == 0 and run[0].step == 0 and run[0].accuracy is not None
    ends = [r for r in run if r.accuracy is not None]
    assert [r.epoch for r in ends] == [0, 1, 2]
    assert len(run) == 1 + 2 * 4
    assert ends[-1].step == 2 * 400
    assert ends[-1].accuracy > 0.8 > ends[0].accuracy


def test_a_diverging_net_stops_after_its_first_non_finite_record(mnist):
    run = records("784-30-30-10:relu", mnist, epochs=50, eta=500.0)
    assert not run[-1].is_finite
    assert all(r.is_finite for r in run[:-1])
    assert len(run) < 50


def test_float32_runs_and_tracks_float64(mnist):
    r64 = records("784-30-30-10", mnist, epochs=2)[-1]
    r32 = records("784-30-30-10", mnist, epochs=2, dtype="float32")[-1]
    assert r32.speed == pytest.approx(r64.speed, rel=1e-4)


def test_nets_of_a_run_share_the_data_instead_of_copying_it(mnist):
    """Four nets on full MNIST must fit in memory: no per-net copy of the training images."""
    first, second = (Trainer(parse_net(spec), mnist, Config(mode="sgd"))
                     for spec in ("784-30-30-10", "784-30-30-30-10:relu"))
    assert first.train_x is mnist.train_x and first.train_x.dtype == np.float32
    assert first.test_x is mnist.test_x
    assert second.train_y is first.train_y and second.probe_x is first.probe_x
    assert first.probe_x.dtype == np.float64


def test_each_record_counts_saturated_units_on_the_probe_set_as_numpy_does(mnist):
    """The book's large init saturates its sigmoids: σ'(z) < 0.01 for the share of (unit, example) pairs
    that numpy's forward pass finds, per hidden layer; no dead units are claimed for a sigmoid net."""
    trainer = Trainer(parse_net("784-30-30-30-30-10:large"), mnist, Config())
    record = trainer.measure(0)
    zs, _ = reference_forward(trainer.spec, make_layout(trainer.spec), trainer.params, mnist.probe_x)
    expected = [np.mean(sigmoid_prime(z) < 0.01) for z in zs[:-1]]
    np.testing.assert_allclose(record.saturated, expected, atol=2 / zs[0].size)  # a pair on the bound at most
    assert record.dead is None and min(record.saturated) > 0


def test_a_relu_net_records_its_dead_units_and_no_saturation(mnist):
    trainer = Trainer(parse_net("784-30-30-30-10:relu:he"), mnist, Config())
    record = trainer.measure(0)
    zs, _ = reference_forward(trainer.spec, make_layout(trainer.spec), trainer.params, mnist.probe_x)
    assert record.saturated is None
    assert record.dead == tuple(float(np.mean(np.all(z <= 0, axis=0))) for z in zs[:-1])


def test_the_kernels_speeds_are_the_numpy_definitions(mnist):
    """net.reference_speeds is the documented definition of s_l; the kernels give its numbers."""
    trainer = Trainer(parse_net("784-30-30-30-30-10"), mnist, Config())
    speed, _, _ = trainer.probe()
    expected = reference_speeds(trainer.spec, make_layout(trainer.spec), trainer.params, mnist.probe_x,
                                one_hot(mnist.probe_y, 10))
    np.testing.assert_allclose(speed, expected, rtol=1e-10)
