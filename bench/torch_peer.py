"""PyTorch CPU as a peer, when torch can be imported here (it is not a dependency)."""

from __future__ import annotations

import numpy as np

from vgrad.bench.peer import Peer
from vgrad.bench.problem import ETA, LMBDA, Problem
from vgrad.core.data import one_hot


def torch_version() -> str | None:
    """torch's version if it can be imported here, else None."""
    try:
        import torch
    except Exception:  # not installed, or a broken install: skipped with a note
        return None
    return str(torch.__version__)


class TorchPeer(Peer):
    """PyTorch CPU on one thread: Linear+Sigmoid layers, BCE-with-logits (= cross-entropy on
    the sigmoid output, δ^L = a − y), SGD with weight decay λ/n on the weights only."""

    name = "torch"

    def __init__(self, problem: Problem, dtype: str):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        tdtype = getattr(torch, dtype)
        layout = problem.layout
        layers: list = []
        for layer in range(layout.n_layers):
            weight, bias = layout.weight(problem.params, layer), layout.bias(problem.params, layer)
            n_out, n_in = weight.shape
            linear = torch.nn.Linear(n_in, n_out, dtype=tdtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(weight.copy()))
                linear.bias.copy_(torch.from_numpy(bias.copy()))
            layers.append(linear)
            if layer < layout.n_layers - 1:
                layers.append(torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        self.layout = layout
        self.sizes = problem.spec.sizes
        self.linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        data, n_classes = problem.data, problem.data.n_classes

        def tensor(array):
            return torch.from_numpy(np.ascontiguousarray(array, dtype=dtype))

        self.train_x, self.train_y = tensor(data.train_x), tensor(one_hot(data.train_y, n_classes))
        self.probe_x, self.probe_y = tensor(data.probe_x), tensor(one_hot(data.probe_y, n_classes))
        self.batch = problem.batch
        self.sgd_optimizer = self._optimizer(len(self.train_x))
        self.full_optimizer = self._optimizer(len(self.probe_x))
        self.dtype = dtype

    def _optimizer(self, n):
        return self.torch.optim.SGD(
            [{"params": [m.weight for m in self.linears], "weight_decay": LMBDA / n},
             {"params": [m.bias for m in self.linears], "weight_decay": 0.0}], lr=ETA)

    def _loss(self, x, y):
        logits = self.model(x)
        return self.torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="sum") / len(x)

    def _step(self, optimizer, x, y):
        optimizer.zero_grad(set_to_none=True)
        self._loss(x, y).backward()
        optimizer.step()

    def sgd(self, order, first, count):
        for index in range(first, first + count):
            rows = self.torch.from_numpy(order[index * self.batch:(index + 1) * self.batch])
            self._step(self.sgd_optimizer, self.train_x[rows], self.train_y[rows])

    def full_batch_step(self):
        self._step(self.full_optimizer, self.probe_x, self.probe_y)

    def gradient(self, x, y):
        torch = self.torch
        self.model.zero_grad(set_to_none=True)
        self._loss(torch.from_numpy(np.ascontiguousarray(x, self.dtype)),
                   torch.from_numpy(np.ascontiguousarray(y, self.dtype))).backward()
        out = np.zeros(self.layout.n_params)
        for layer, m in enumerate(self.linears):
            self.layout.weight(out, layer)[:] = m.weight.grad.detach().double().numpy()
            self.layout.bias(out, layer)[:] = m.bias.grad.detach().double().numpy()
        return out
