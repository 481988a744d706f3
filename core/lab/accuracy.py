"""The book's accuracy table (ch. 5): 784-30-10 … 784-30-30-30-30-10 trained by network2's SGD.

30 epochs, batch 10, η = 0.1, λ = 5.0 on the first 50,000 MNIST training images; accuracy on
the last 10,000 (network2's validation set) after every epoch, next to the book's figure.
The four nets train at once, one thread each (the kernels release the GIL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.errors import InputError
from vgrad.core.lab.book import ACCURACY_EXPERIMENT, BOOK_ACCURACIES
from vgrad.core.spec import parse_net
from vgrad.core.train.experiment import run_experiment

MNIST_TRAIN = ACCURACY_EXPERIMENT["train_images"] + ACCURACY_EXPERIMENT["validation_images"]
MIN_IMAGES = 60  # the smallest split that still gives every net ten validation images


@dataclass(frozen=True)
class AccuracyRun:
    """One net's validation accuracy (%) after each epoch, beside the book's after the last."""

    spec: str
    book: float
    per_epoch: tuple[float, ...]
    error: str = ""

    @property
    def final(self) -> float | None:
        return self.per_epoch[-1] if self.per_epoch else None

    def as_dict(self) -> dict:
        return {"spec": self.spec, "book": self.book, "final": self.final,
                "per_epoch": list(self.per_epoch), **({"error": self.error} if self.error else {})}


def validation_split(data: Dataset) -> Dataset:
    """network2's split of the training images: the last sixth (10,000 of MNIST's 60,000) for
    validation, the rest (the first 50,000) for training. The test set is not used."""
    n = len(data.train_x)
    if n < MIN_IMAGES:
        raise InputError(f"data {data.name}: {n} training images; the accuracy table needs at least "
                         f"{MIN_IMAGES} (full MNIST has {MNIST_TRAIN})")
    n_train = n - n // 6
    return replace(data, train_x=data.train_x[:n_train], train_y=data.train_y[:n_train],
                   test_x=data.train_x[n_train:], test_y=data.train_y[n_train:])


def accuracy_config(epochs: int = ACCURACY_EXPERIMENT["epochs"], dtype: str = "float64") -> Config:
    """network2's SGD, measuring s_l once an epoch (nothing here reads it)."""
    return Config(mode="sgd", epochs=epochs, batch_size=ACCURACY_EXPERIMENT["batch_size"],
                  eta=ACCURACY_EXPERIMENT["eta"], lmbda=ACCURACY_EXPERIMENT["lmbda"], dtype=dtype,
                  probes_per_epoch=1).checked()


def accuracy_table(data: Dataset, epochs: int = ACCURACY_EXPERIMENT["epochs"], dtype: str = "float64",
                   progress: Callable[[int, int, float], None] | None = None,
                   stop: threading.Event | None = None) -> list[AccuracyRun]:
    """Train the book's four nets at once on `validation_split(data)`; progress(net, epoch,
    accuracy %) after each epoch of each net (from its worker thread). Setting `stop` ends
    every net after its current epoch; so does Ctrl+C (which sets `stop`, pass your own to tell):
    what was measured is returned either way."""
    from vgrad.core.train.threads import limit_blas_threads
    limit_blas_threads()  # four nets × several BLAS threads each would fight over the cores
    split = validation_split(data)
    config = accuracy_config(epochs, dtype)
    stop = stop or threading.Event()
    results: list[list[float]] = [[] for _ in BOOK_ACCURACIES]
    errors = [""] * len(BOOK_ACCURACIES)

    def train(index: int) -> None:
        spec = parse_net(BOOK_ACCURACIES[index][0]).with_input(split.n_inputs, split.n_classes)
        try:
            for record in run_experiment(spec, split, config, index):
                if record.accuracy is not None and record.epoch > 0:
                    results[index].append(100.0 * record.accuracy)
                    if progress:
                        progress(index, record.epoch, results[index][-1])
                if stop.is_set():
                    return
        except Exception as error:  # shown beside the net; the other nets carry on
            errors[index] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=train, args=(i,), name=f"vgrad-accuracy-{i}", daemon=True)
               for i in range(len(BOOK_ACCURACIES))]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)  # short waits, so Ctrl+C reaches the main thread
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join()
    return [AccuracyRun(spec, book, tuple(per_epoch), error)
            for (spec, book), per_epoch, error in zip(BOOK_ACCURACIES, results, errors)]
