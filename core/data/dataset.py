"""The `Dataset` every source returns, and the helpers that build one.

Pixels are float32 in [0, 1] (float32 halves the memory of full MNIST; x/256 is exact in it;
the engine casts each batch), labels int64. The probe set is the speed experiment's fixed batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgrad.core.errors import InputError

N_PROBE = 1000
PIXEL_DTYPE = np.float32


@dataclass(frozen=True)
class Dataset:
    """Train, test and probe splits of one dataset; x is (n, n_inputs) float32, y is (n,) int64.

    The probe set is the speed experiment's fixed batch (the book's first 1000 training images).
    """

    name: str  # "mnist", "digits", or the file/folder path given
    train_x: np.ndarray  # (n_train, n_inputs) float32, C-contiguous, in [0, 1) ([0, 1] if
    #                      a user's file holds float pixels that reach 1.0)
    train_y: np.ndarray  # (n_train,) int64 labels 0..n_classes-1
    test_x: np.ndarray  # (n_test, n_inputs)
    test_y: np.ndarray  # (n_test,)
    probe_x: np.ndarray  # (n_probe, n_inputs)
    probe_y: np.ndarray  # (n_probe,)
    n_classes: int = 10

    @property
    def n_inputs(self) -> int:
        """Pixels per image (784 for MNIST, 64 for digits)."""
        return int(self.train_x.shape[1])

    def sizes(self) -> dict[str, int]:
        """Split sizes for the JSONL run header."""
        return {
            "train": int(self.train_x.shape[0]),
            "test": int(self.test_x.shape[0]),
            "probe": int(self.probe_x.shape[0]),
            "inputs": self.n_inputs,
            "classes": self.n_classes,
        }


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) integer labels -> (n, n_classes) float64 one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InputError(f"one_hot: labels must be 1-D, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise InputError(f"one_hot: labels must lie in 0..{n_classes - 1}")
    out = np.zeros((labels.shape[0], n_classes), dtype=np.float64)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def scale_uint8(x: np.ndarray) -> np.ndarray:
    """Integer pixels 0..255 -> C-contiguous x/256 in [0, 1) (exact in float32)."""
    out = np.array(x, dtype=PIXEL_DTYPE, order="C")
    out *= PIXEL_DTYPE(1.0 / 256.0)
    return out

def make_dataset(name: str, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                 test_y: np.ndarray) -> Dataset:
    """A Dataset whose probe set is the first 1000 training rows (or all of them if fewer)."""
    train_x = np.ascontiguousarray(train_x, dtype=PIXEL_DTYPE)
    test_x = np.ascontiguousarray(test_x, dtype=PIXEL_DTYPE)
    train_y = np.ascontiguousarray(train_y, dtype=np.int64)
    test_y = np.ascontiguousarray(test_y, dtype=np.int64)
    n_probe = min(N_PROBE, train_x.shape[0])
    return Dataset(name, train_x, train_y, test_x, test_y, train_x[:n_probe], train_y[:n_probe])

def reason(exc: BaseException) -> str:
    """A one-line description of an exception."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

