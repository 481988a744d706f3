"""`reproduce --accuracy` timed: the book's four nets by network2's SGD on 60,000 synthetic
MNIST-shaped images (no file is shipped), on two cores; a few epochs, scaled to the book's 30."""

from __future__ import annotations

import time

import numpy as np

from vgrad.bench.measures.experiment import on_cpus
from vgrad.core.data.dataset import make_dataset
from vgrad.core.lab.accuracy import MNIST_TRAIN, accuracy_table
from vgrad.core.lab.book import ACCURACY_EXPERIMENT

DTYPE = "float32"          # the command's default
EPOCHS, QUICK_EPOCHS = 3, 1
LIT = 0.19                 # share of MNIST's pixels that are not zero


def synthetic_mnist(seed: int = 0):
    """60,000 training and 100 test images of 784 pixels, LIT of them non-zero, random labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((MNIST_TRAIN, 784), dtype=np.float32)
    x[x >= LIT] = 0.0
    x *= np.float32(1 / LIT)  # the lit pixels spread over [0, 1)
    labels = rng.integers(0, 10, MNIST_TRAIN)
    return make_dataset("synthetic 60k", x, labels, x[:100], labels[:100])


def accuracy_timing(quick: bool) -> dict:
    """Seconds for the four nets' epochs on 2 cores, and that scaled to the book's 30 epochs."""
    data = synthetic_mnist()
    epochs = QUICK_EPOCHS if quick else EPOCHS
    with on_cpus(2):
        start = time.perf_counter()
        runs = accuracy_table(data, epochs, DTYPE)
        seconds = time.perf_counter() - start
    scale = ACCURACY_EXPERIMENT["epochs"] / epochs
    return {"images": MNIST_TRAIN, "dtype": DTYPE, "epochs": epochs, "seconds": seconds, "scale": scale,
            "seconds_30_epochs": seconds * scale, "errors": [run.error for run in runs if run.error]}
