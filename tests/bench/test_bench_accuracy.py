"""The bench's timing of `reproduce --accuracy`: synthetic MNIST-shaped images, scaled to 30 epochs."""

import numpy as np

from vgrad.bench.measures import accuracy


def test_the_synthetic_images_are_mnist_shaped_and_as_sparse_as_mnist(monkeypatch):
    monkeypatch.setattr(accuracy, "MNIST_TRAIN", 600)
    data = accuracy.synthetic_mnist()
    assert data.train_x.shape == (600, 784) and data.train_x.dtype == np.float32
    assert 0.0 <= data.train_x.min() and data.train_x.max() < 1.0
    assert abs(np.count_nonzero(data.train_x) / data.train_x.size - accuracy.LIT) < 0.01


def test_the_timing_trains_the_four_nets_and_scales_to_the_books_30_epochs(monkeypatch):
    monkeypatch.setattr(accuracy, "MNIST_TRAIN", 600)   # the real run uses 60,000: same code, seconds
    monkeypatch.setattr(accuracy, "DTYPE", "float64")   # the kernels the suite has compiled already
    timing = accuracy.accuracy_timing(quick=True)
    assert timing["epochs"] == accuracy.QUICK_EPOCHS and timing["errors"] == []
    assert timing["seconds"] > 0 and timing["seconds_30_epochs"] == timing["seconds"] * 30 / timing["epochs"]
