"""Shared fixtures: the built-in data and compiled kernels, once per session.

Only tests that train ask for the kernels (through `compiled_kernels`, `mnist` or `digits`), so a
UI-only selection such as `pytest tests/tui/test_layout.py` never pays for a compile.
"""

import os

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
# The suite's processes already fill the CPUs (pytest-xdist): a second compile process each would
# only compete with them. tests/core/train/test_warmup.py turns it back on for its own tests.
os.environ.setdefault("VGRAD_COMPILE_PROCESSES", "1")


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread per process, as the runner uses, so sums add up in the same order."""
    from vgrad.core.train.threads import limit_blas_threads

    limit_blas_threads()


@pytest.fixture(scope="session")
def compiled_kernels():
    """Compile (or load) the float64 kernels once, so no test pays for it twice."""
    from vgrad.core.train.warmup import compile_kernels

    compile_kernels("float64")


@pytest.fixture(scope="session")
def mnist(compiled_kernels):
    from vgrad.core.data import load_dataset

    return load_dataset("mnist")


@pytest.fixture(scope="session")
def digits(compiled_kernels):
    from vgrad.core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture
def hold_as_writer():
    """Lock a file as a live vgrad writer does (guard.claim_output's flock) until the test ends:
    a file a test writes by hand is then one whose writer is still there."""
    import fcntl
    import os

    held = []

    def hold(path):
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(fd)
        return path

    yield hold
    for fd in held:
        os.close(fd)


def pytest_collection_modifyitems(items):
    """Every test that compares a snapshot is marked `snapshot`, for the quickest loop:
    `pytest -m "not slow and not snapshot"`."""
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.snapshot)
