"""Compile (or load from numba's cache) every kernel before the workers start.

Compiling holds the GIL, so doing it first, behind a spinner, keeps the UI from
stuttering. A tiny synthetic run through the same Trainer code path gives the
kernels exactly the argument types the real run will use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.engine.jit import survive_cache_failure
from vgrad.core.spec import NetSpec
from vgrad.core.train.trainer import run_experiment

T = TypeVar("T")


def _tiny_dataset(rows: int = 8, inputs: int = 4, classes: int = 3) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.random((rows, inputs)).astype(np.float32)  # datasets store pixels as float32
    y = np.arange(rows, dtype=np.int64) % classes
    return Dataset(name="warm-up", train_x=x, train_y=y, test_x=x, test_y=y, probe_x=x, probe_y=y,
                   n_classes=classes)


def compile_kernels(dtype: str = "float64", modes: tuple[str, ...] = ("speed", "sgd"),
                    batchnorm: bool = False) -> float:
    """Run the kernels of `modes` once for `dtype` (and the batchnorm kernels, if asked); return the
    seconds it took (cold compile or cache load). A run needs only its own mode's kernels, which
    saves start-up time."""
    start = time.perf_counter()
    data = _tiny_dataset()
    specs = (NetSpec(sizes=(4, 3, 3, 3)), NetSpec(sizes=(4, 3, 3, 3), batchnorm=True))

    def run_all() -> None:
        for spec in specs[:1 + batchnorm]:
            for mode in modes:
                config = Config(mode=mode, epochs=1, batch_size=3, dtype=dtype, lmbda=0.1, clip=1.0)
                for _ in run_experiment(spec, data, config):
                    pass

    # a full disk or a corrupt cache file costs a recompile, not the run
    off_the_main_thread(lambda: survive_cache_failure(run_all))
    return time.perf_counter() - start


def off_the_main_thread(call: Callable[[], T]) -> T:
    """`call()`, run on a thread of its own while the main thread waits for it, so that Ctrl+C
    interrupts the wait. Run on the main thread, numba's compiler is in an LLVM callback much of
    the time, and ctypes swallows a KeyboardInterrupt raised there: the compile, and the run, went on."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    outcome: dict[str, object] = {}

    def keep_outcome() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller below, whatever it is
            outcome["error"] = error

    worker = threading.Thread(target=keep_outcome, name="vgrad-compile", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
