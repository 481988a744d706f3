"""What the bench measures: the net, the peers' common problem, and FLOP counting.

Every peer trains the same spec from the same initial weights on the same data, so
their examples per second compare the same maths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgrad.core.data import Dataset
from vgrad.core.engine.net import NetLayout, make_layout
from vgrad.core.lab.book import BOOK_NETS
from vgrad.core.spec import NetSpec, parse_net

NET = "784-30-30-30-30-10"
BATCHES = (10, 1000)                       # mini-batch SGD, and the full-batch probe step
PEERS = ("vgrad", "numpy", "book", "torch")
ETA, LMBDA = 0.1, 5.0
EXPERIMENT_EPOCHS = 500
QUICK_EPOCHS = 25
MATMUL_SIZE = 1000


@dataclass
class Problem:
    """What every peer trains: the spec, its initial weights (float64) and the data."""

    spec: NetSpec
    params: np.ndarray
    data: Dataset
    batch: int = 10

    @property
    def layout(self) -> NetLayout:
        return make_layout(self.spec)


def matmul_flops_per_example(sizes: tuple[int, ...]) -> int:
    """FLOPs of the matrix products of one example's forward + backward pass.

    Forward 2W, ∂C/∂W 2W, ∂C/∂a for every layer but the first 2(W − W¹): 4W + 2(W − W¹).
    """
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 4 * sum(weights) + 2 * (sum(weights) - weights[0])


def experiment_gflop(epochs: int = EXPERIMENT_EPOCHS, examples: int = 1000) -> float:
    """GFLOP of the default three-net speed experiment (matrix products only)."""
    per_example = sum(matmul_flops_per_example(parse_net(net.spec).sizes) for net in BOOK_NETS)
    return per_example * examples * epochs / 1e9


def book_specs(data: Dataset) -> tuple[NetSpec, ...]:
    """The book's three nets, sized for the data."""
    return tuple(parse_net(net.spec).with_input(data.n_inputs, data.n_classes) for net in BOOK_NETS)
