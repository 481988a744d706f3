"""A Trainer for batch-normalised nets: the same records, computed by the batchnorm kernels.

The weights are the plain net's for the same seed (so plain and batch norm compare pair by
pair), β = 0 in the bias slots and γ = 1 after them (batchnorm_reference.py). speed mode
normalises by the probe set's statistics; sgd mode by each mini-batch's, moving running
averages that the test accuracy is evaluated with.
"""

from __future__ import annotations

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.engine import batchnorm
from vgrad.core.engine.batchnorm_reference import n_params
from vgrad.core.engine.net import B_OFF, N_OUT
from vgrad.core.engine.simd.buffers import aligned, aligned_empty
from vgrad.core.engine.structs import make_batchnorm
from vgrad.core.spec import NetSpec
from vgrad.core.train.trainer import Trainer


class BatchNormTrainer(Trainer):
    """Trainer's interface (probe, record, full_batch_step, sgd_batches, accuracy) for a :batchnorm net."""

    def __init__(self, spec: NetSpec, data: Dataset, config: Config, net_index: int = 0):
        super().__init__(spec, data, config, net_index)
        base = self.layout.n_params
        params = np.empty(n_params(self.layout), dtype=self.params.dtype)
        params[:base] = self.params
        for b_off, n_out in self.table[:-1, [B_OFF, N_OUT]]:
            params[b_off:b_off + n_out] = 0.0   # β
        params[base:] = 1.0                     # γ
        self.params = aligned(params)
        self.grads = aligned_empty(params.size, params.dtype)
        self.grads[:] = 0.0
        self.net = self.net._replace(params=self.params)
        self.buffers = self.buffers._replace(grads=self.grads)
        self.bn = make_batchnorm(self.layout, len(self.buffers.zs), params.dtype)

    def _forward(self, x: np.ndarray, mode: int) -> int:
        return batchnorm.bn_forward(self.net, self.bn, self.buffers, x, mode)

    def gradient(self) -> int:
        """The full-batch gradient on the probe set, normalised by the probe set's own statistics."""
        out_start = self._forward(self.probe_x, batchnorm.BATCH)
        batchnorm.bn_backward(self.net, self.bn, self.buffers, self.probe_x, self.probe_y)
        return out_start

    def units(self) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
        """As Trainer.units, from y = γẑ + β, what the activation takes here ((B, n_l) blocks)."""
        return self._count_units(self.bn.ys, units_first=False)

    def full_batch_step(self) -> None:
        batchnorm.bn_update(self.net, self.bn, self.grads, self.hyper)
        self.steps_done += 1

    def sgd_batches(self, order: np.ndarray, first_batch: int, n_batches: int) -> bool:
        ok = batchnorm.bn_sgd_steps(self.net, self.bn, self.buffers, self.hyper, self.train_x, self.train_y,
                                    order, first_batch, n_batches)
        self.steps_done += n_batches
        return bool(ok)

    def accuracy(self) -> float:
        """Fraction of the test set classified correctly, normalised by the running averages."""
        chunk = len(self.probe_x)
        n_out = int(self.table[-1, N_OUT])
        correct = 0
        for start in range(0, len(self.test_x), chunk):
            rows = np.ascontiguousarray(self.test_x[start:start + chunk], dtype=self.params.dtype)
            out = self._forward(rows, batchnorm.EVAL)
            outputs = self.buffers.acts[out:out + len(rows) * n_out].reshape(len(rows), n_out)
            correct += int(np.count_nonzero(np.argmax(outputs, axis=1) == self.test_y[start:start + chunk]))
        return correct / len(self.test_x)
