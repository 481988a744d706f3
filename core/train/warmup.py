"""Compile (or load from numba's cache) every kernel before the workers start.

Compiling holds the GIL, so doing it first, behind a spinner, keeps the UI from
stuttering. A tiny synthetic run through the same Trainer code path gives the
kernels exactly the argument types the real run will use.

A cold compile uses a second CPU: numba compiles one function at a time in a process, so a
second process (warmup_helper.py) compiles _backprop, half of the work, into the cache while
this one compiles the forward pass; this one then loads _backprop from the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.engine import kernels
from vgrad.core.engine.jit import is_cached, prune_stale_caches, shares_cache, survive_cache_failure
from vgrad.core.spec import NetSpec
from vgrad.core.train.experiment import run_experiment
from vgrad.core.train.trainer import Trainer

T = TypeVar("T")
TINY_NET = NetSpec(sizes=(4, 3, 3, 3))
SECOND_PROCESS = "VGRAD_COMPILE_PROCESSES"  # set to 1: a cold compile stays in one process
HELPER_WAIT = 300.0  # seconds to wait for the second process before compiling its part here


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
    saves start-up time. Caches of other kernel versions unused for 30 days are pruned first (here,
    where a command starts, never when the engine is imported)."""
    start = time.perf_counter()
    prune_stale_caches()
    data = _tiny_dataset()
    specs = (TINY_NET, NetSpec(sizes=TINY_NET.sizes, batchnorm=True))

    def run_all() -> None:
        trainer = tiny_trainer(dtype, data)
        with _backprop_compiled_elsewhere(dtype, trainer):
            forward_half(trainer)
        for spec in specs[:1 + batchnorm]:
            for mode in modes:
                for _ in run_experiment(spec, data, _tiny_config(dtype, mode)):
                    pass

    # a full disk or a corrupt cache file costs a recompile, not the run
    off_the_main_thread(lambda: survive_cache_failure(run_all))
    return time.perf_counter() - start


def _tiny_config(dtype: str, mode: str) -> Config:
    """One epoch of batches of 3, with L2 and clipping on, so that every kernel of `mode` runs."""
    return Config(mode=mode, epochs=1, batch_size=3, dtype=dtype, lmbda=0.1, clip=1.0)


def tiny_trainer(dtype: str, data: Dataset | None = None) -> Trainer:
    """A Trainer of the tiny net in speed mode: its kernels' argument types are a real run's."""
    return Trainer(TINY_NET, data or _tiny_dataset(), _tiny_config(dtype, "speed"))


def forward_half(trainer: Trainer) -> None:
    """Compile what a probe and a full-batch step run besides _backprop."""
    out_start = kernels.probe_forward(trainer.net, trainer.buffers, trainer.probe_x, trainer.panels)
    kernels.probe_summary(trainer.net, trainer.buffers, trainer.probe_y, out_start, 0.0)
    trainer.full_batch_step()


def backward_arguments(trainer: Trainer) -> tuple:
    return kernels.probe_backward_arguments(trainer.net, trainer.buffers, trainer.probe_x, trainer.probe_y,
                                            trainer.panels)


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def _backprop_compiled_elsewhere(dtype: str, trainer: Trainer) -> Iterator[None]:
    """While the block runs, a second process compiles _backprop into numba's cache, if it is not
    there, a second CPU is, and the other process would find this cache; on leaving, wait for it
    (then _backprop loads from the cache).
    Should it fail or stall, this process compiles _backprop itself, as without it."""
    if (os.environ.get(SECOND_PROCESS) == "1" or _usable_cpus() < 2 or not shares_cache(kernels._backprop)
            or is_cached(kernels._backprop, backward_arguments(trainer))):
        yield
        return
    helper = subprocess.Popen([sys.executable, "-m", "vgrad.core.train.warmup_helper", dtype, str(os.getpid())],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
        helper.wait(HELPER_WAIT)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()


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
