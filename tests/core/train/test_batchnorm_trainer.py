"""Batch-normalised nets through the Trainer: the numpy reference's gradient, s_l = ‖∂C/∂β‖, SGD
with running averages, and the spec option."""

import numpy as np
import pytest

from vgrad.core.config import Config
from vgrad.core.engine.batchnorm_reference import reference_bn_backward
from vgrad.core.spec import parse_net
from vgrad.core.train.batchnorm_trainer import BatchNormTrainer
from vgrad.core.train.experiment import make_trainer, run_experiment
from vgrad.core.train.trainer import Trainer

DEEP_DIGITS = "64-20-20-20-10"


def test_the_option_parses_and_round_trips_through_the_label():
    spec = parse_net("784-30-30-10:bn:relu")
    assert spec.batchnorm and spec.label == "784-30-30-10:relu:batchnorm"
    assert parse_net(spec.label) == spec
    assert not parse_net("784-30-10").batchnorm


def test_batchnorm_nets_get_the_batchnorm_trainer_with_the_plain_nets_weights(digits):
    plain = make_trainer(parse_net(DEEP_DIGITS), digits, Config(seed=3))
    normed = make_trainer(parse_net(DEEP_DIGITS + ":batchnorm"), digits, Config(seed=3))
    assert type(plain) is Trainer and type(normed) is BatchNormTrainer
    base = plain.layout.n_params
    weights = plain.layout.weight_mask()
    assert np.array_equal(normed.params[:base][weights], plain.params[weights])
    assert np.all(normed.params[base:] == 1.0)                        # γ
    assert np.all(normed.params[plain.table[0, 1]:plain.table[0, 1] + 20] == 0.0)  # β of h1


@pytest.mark.parametrize("options", [":batchnorm", ":tanh:he:residual:batchnorm"])
def test_the_probe_gradient_is_the_references_and_s_l_is_the_norm_of_dC_dbeta(digits, options):
    trainer = make_trainer(parse_net(DEEP_DIGITS + options), digits, Config(seed=1))
    speed, neurons, _ = trainer.probe()
    reference = reference_bn_backward(trainer.spec, trainer.layout, trainer.params, trainer.probe_x,
                                      trainer.probe_y)
    assert np.allclose(trainer.grads, reference, rtol=1e-10, atol=1e-13)
    for layer, (b_off, n_out) in enumerate(trainer.table[:-1, 1:3]):
        assert speed[layer] == pytest.approx(np.linalg.norm(reference[b_off:b_off + n_out]), rel=1e-10)
        assert neurons[layer] == pytest.approx(reference[b_off:b_off + 6].tolist(), rel=1e-10)


def test_full_batch_steps_lower_the_cost(digits):
    run = list(run_experiment(parse_net(DEEP_DIGITS + ":batchnorm"), digits, Config(epochs=20, eta=0.5)))
    assert run[-1].cost < run[0].cost and all(r.is_finite for r in run)


def test_sgd_learns_and_evaluates_with_the_running_averages(digits):
    spec = parse_net(DEEP_DIGITS + ":batchnorm")
    trainer = make_trainer(spec, digits, Config(mode="sgd", epochs=2, seed=0))
    order = trainer.rng.permutation(trainer.n_train).astype(np.int64)
    assert trainer.sgd_batches(order, 0, len(order) // 10)
    assert not np.allclose(trainer.bn.run_means, 0.0) and not np.allclose(trainer.bn.run_vars, 1.0)
    learned = trainer.accuracy()
    assert learned > 0.5
    trainer.bn.run_means[:] = 1e3          # evaluation reads the running averages: wreck them and it fails
    assert trainer.accuracy() < learned


@pytest.mark.parametrize("mode", ["speed", "sgd"])
def test_a_recorded_run_of_a_batchnorm_net_replays_as_one(digits, tmp_path, mode):
    """Runner → JSONL → reader: the spec keeps its batchnorm option, every record both lenses."""
    from vgrad.core.record.format import run_header
    from vgrad.core.record.reader import read_run
    from vgrad.core.record.writer import JsonlRecorder
    from vgrad.core.run.board import Board
    from vgrad.core.run.runner import Runner

    specs = (parse_net(DEEP_DIGITS), parse_net(DEEP_DIGITS + ":relu:batchnorm"))
    config = Config(mode=mode, epochs=2)
    path = tmp_path / "run.jsonl"
    recorder = JsonlRecorder(path, run_header(specs, config, digits.name, digits.sizes()))
    runner = Runner.for_training(specs, digits, config, Board(specs, config.n_epochs), sinks=(recorder,))
    runner.start()
    runner.join()
    recorder.end("complete", 0.0)
    recording = read_run(path)
    assert recording.specs[1].batchnorm and not recording.specs[0].batchnorm
    steps = recording.steps_of(1)
    assert steps and all(len(step.weight_grad) == 3 and step.is_finite for step in steps)
