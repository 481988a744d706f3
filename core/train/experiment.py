"""The book's experiments, as generators of StepRecords.

speed mode (Nielsen ch. 5, "Speed of learning: k hidden layers"): full-batch
gradient descent on the N probe images; before each step we record
s_l = ‖(1/N) Σ_x δ^l_x‖₂ for every hidden layer l — the very gradient the step uses —
and once more after the last step, so an E-epoch run ends on its record at epoch E.
sgd mode: network2's mini-batch SGD on the training set, with s_l measured on the
probe set `probes_per_epoch` times per epoch and test accuracy at each epoch end.
Both stop after the first non-finite record (the net diverged).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.record.step import StepRecord
from vgrad.core.spec import NetSpec
from vgrad.core.train.batchnorm_trainer import BatchNormTrainer
from vgrad.core.train.trainer import Trainer


def make_trainer(spec: NetSpec, data: Dataset, config: Config, net_index: int = 0) -> Trainer:
    """The Trainer for `spec`: a batch-normalised net gets the batchnorm kernels' Trainer."""
    if spec.batchnorm:
        return BatchNormTrainer(spec, data, config, net_index)
    return Trainer(spec, data, config, net_index)


def run_experiment(spec: NetSpec, data: Dataset, config: Config, net_index: int = 0) -> Iterator[StepRecord]:
    """Yield the records of one net's run; see the module docstring for the two modes."""
    trainer = make_trainer(spec, data, config, net_index)
    if config.mode == "speed":
        yield from _speed_records(trainer, config.n_epochs)
    else:
        yield from _sgd_records(trainer, config)


def _speed_records(trainer: Trainer, epochs: int) -> Iterator[StepRecord]:
    """s_l before each of `epochs` full-batch steps and after the last: records at epochs 0 … E
    (with 0 epochs, the one measurement at initialisation)."""
    for epoch in range(epochs + 1):
        record = trainer.measure(epoch)
        yield record
        if not record.is_finite or epoch == epochs:
            return
        trainer.full_batch_step()


def _sgd_records(trainer: Trainer, config: Config) -> Iterator[StepRecord]:
    n_batches = math.ceil(trainer.n_train / config.batch_size)
    probe_every = max(1, math.ceil(n_batches / config.probes_per_epoch))
    record = trainer.measure(0, trainer.accuracy())
    yield record
    if not record.is_finite:
        return
    for epoch in range(config.n_epochs):
        order = trainer.rng.permutation(trainer.n_train).astype(np.int64)
        for first in range(0, n_batches, probe_every):
            count = min(probe_every, n_batches - first)
            finite = trainer.sgd_batches(order, first, count)
            epoch_done = first + count == n_batches
            accuracy = trainer.accuracy() if epoch_done and finite else None
            record = trainer.measure(epoch + 1 if epoch_done else epoch, accuracy)
            yield record
            if not (finite and record.is_finite):
                return
