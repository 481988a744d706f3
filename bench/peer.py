"""The interface every implementation the bench times shares (peers.py, torch_peer.py)."""

from __future__ import annotations

import numpy as np

from vgrad.bench.problem import matmul_flops_per_example


class Peer:
    """One implementation under test.

    sgd(order, first, count) trains `count` mini-batches of 10 on the training set;
    full_batch_step() takes one gradient-descent step on the 1000 probe images;
    gradient(x, y) returns the flat mean gradient (net.py layout) for the checks.
    """

    name = ""
    sizes: tuple[int, ...] = ()

    def sgd(self, order: np.ndarray, first: int, count: int) -> None:
        raise NotImplementedError

    def full_batch_step(self) -> None:
        raise NotImplementedError

    def gradient(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def flops_per_example(self, batch: int) -> int:
        """Matrix-product FLOPs this peer executes per example."""
        return matmul_flops_per_example(self.sizes)
