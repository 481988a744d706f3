"""Datasets: the built-in MNIST subset, scikit-learn's digits, and full MNIST from disk.

All come back as a `Dataset` of float32 pixels in [0, 1] and int64 labels; every bad input
raises `InputError` with a one-line reason that names the file.
"""

from __future__ import annotations

from pathlib import Path

from vgrad.core.data.builtin import load_digits, load_mnist5k
from vgrad.core.data.dataset import N_PROBE, Dataset, one_hot
from vgrad.core.data.files import load_file, load_folder
from vgrad.core.errors import InputError, did_you_mean

BUILTIN = ("mnist", "digits")

__all__ = ["BUILTIN", "N_PROBE", "Dataset", "load_dataset", "one_hot"]


def load_dataset(source: str = "mnist") -> Dataset:
    """Load "mnist" (built in), "digits", or full MNIST from a path; raise InputError if bad.

    The names win over a folder of the same name: pass "./mnist" for a folder called mnist.
    A path may be a folder holding the four IDX files (raw or .gz, dashed or dotted names),
    one of those IDX files (its folder is loaded), keras `mnist.npz`, or the book's `mnist.pkl.gz`.
    """
    key = source.strip().lower()
    if not key:
        raise InputError('empty data source (expected "mnist", "digits" or a path to MNIST files)')
    if key == "mnist":
        return load_mnist5k()
    if key == "digits":
        return load_digits()
    path = Path(source).expanduser()
    if not path.exists():
        if "/" not in source and "\\" not in source and "." not in source:
            raise InputError(
                f"unknown data source {source!r} "
                '(expected "mnist", "digits" or a path to MNIST files)' + did_you_mean(key, ("mnist", "digits"))
            )
        raise InputError(f"data path {source}: no such file or folder")
    if path.is_dir():
        return load_folder(path, source)
    return load_file(path, source)
