"""Shared fixtures: the built-in data and compiled kernels, once per session."""

import os

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(scope="session")
def mnist():
    from vgrad.core.data import load_dataset

    return load_dataset("mnist")


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile (or load) the float64 kernels once, so no test pays for it twice."""
    from vgrad.core.run.threads import limit_blas_threads
    from vgrad.core.run.warmup import compile_kernels

    compile_kernels("float64")
    limit_blas_threads()
