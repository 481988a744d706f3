"""The warm-up compiles off the main thread, so Ctrl+C always reaches the caller, and hands half of
a cold compile to a second process."""

import ctypes
import os
import signal
import subprocess
import sys
import threading

import numba
import pytest

from vgrad.core.config import Config
from vgrad.core.data import load_dataset
from vgrad.core.engine import kernels
from vgrad.core.spec import parse_net
from vgrad.core.train import warmup
from vgrad.core.train.experiment import run_experiment
from vgrad.core.train.warmup import off_the_main_thread
from vgrad.core.train.warmup_helper import ORPHANED


def test_the_call_runs_on_another_thread_and_its_value_and_errors_come_back():
    assert off_the_main_thread(lambda: threading.current_thread().name) == "vgrad-compile"
    with pytest.raises(ZeroDivisionError):
        off_the_main_thread(lambda: 1 / 0)


def test_ctrl_c_reaches_the_caller_while_the_work_is_inside_a_c_callback():
    """numba's compiler spends its time in LLVM callbacks; a KeyboardInterrupt raised in one is
    swallowed by ctypes, so a signal handled there was lost and the run went on."""
    entered, released = threading.Event(), threading.Event()

    @ctypes.CFUNCTYPE(None)
    def callback() -> None:
        entered.set()
        released.wait(10)

    def interrupt_when_inside() -> None:
        entered.wait(10)
        os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=interrupt_when_inside, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            off_the_main_thread(callback)
    finally:
        released.set()
        signal.signal(signal.SIGINT, previous)


def _signature(args: tuple) -> tuple:
    return tuple(numba.typeof(arg) for arg in args)


@pytest.mark.parametrize("mode", ["speed", "sgd"])
def test_the_second_process_compiles_backprop_for_the_argument_types_of_a_real_run(mode, monkeypatch):
    """What a cold compile hands the second process is the _backprop a run then loads from the cache."""
    seen = []
    arguments = kernels.probe_backward_arguments

    def spy(*args):
        seen.append(_signature(given := arguments(*args)))
        return given

    monkeypatch.setattr(kernels, "probe_backward_arguments", spy)  # plain Python: numba code never sees it
    data = load_dataset("mnist")
    spec = parse_net("784-30-30-10").with_input(data.n_inputs, data.n_classes)
    for _ in run_experiment(spec, data, Config(mode=mode, epochs=1)):
        pass
    assert seen and set(seen) == {_signature(warmup.backward_arguments(warmup.tiny_trainer("float64")))}


@pytest.fixture
def second_process(monkeypatch) -> list:
    """Allow the second process; the commands of those started are collected in the list."""
    monkeypatch.delenv(warmup.SECOND_PROCESS, raising=False)
    monkeypatch.setattr(warmup, "_usable_cpus", lambda: 2)
    started = []
    real_popen = subprocess.Popen

    def popen(args, **kwargs):
        started.append(process := real_popen(args, **kwargs))
        return process

    monkeypatch.setattr(warmup.subprocess, "Popen", popen)
    return started


@pytest.mark.slow
def test_a_cold_compile_hands_backprop_to_a_second_process_and_waits_for_it(second_process, monkeypatch):
    monkeypatch.setattr(warmup, "is_cached", lambda dispatcher, args: False)
    warmup.compile_kernels("float64", modes=("speed",))
    [helper] = second_process
    assert helper.args[1:4] == ["-m", "vgrad.core.train.warmup_helper", "float64"]
    assert helper.returncode == 0  # it finished its compile (here: loaded it), it was not killed


@pytest.mark.parametrize("why", ["cached", "one cpu", "asked", "private cache"])
def test_no_second_process_when_backprop_is_cached_one_cpu_is_free_the_user_says_so_or_it_could_not_share(
        why, second_process, monkeypatch):
    monkeypatch.setattr(warmup, "is_cached", lambda dispatcher, args: why == "cached")
    monkeypatch.setattr(warmup, "shares_cache", lambda dispatcher: why != "private cache")
    if why == "one cpu":
        monkeypatch.setattr(warmup, "_usable_cpus", lambda: 1)
    if why == "asked":
        monkeypatch.setenv(warmup.SECOND_PROCESS, "1")
    warmup.compile_kernels("float64", modes=("speed",))
    assert second_process == []


def test_the_second_process_ends_when_its_parent_is_gone():
    """Started for another parent (as after its own parent died), it exits before compiling anything."""
    not_my_parent = os.getpid()
    result = subprocess.run([sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.run("
                             f"[sys.executable, '-m', 'vgrad.core.train.warmup_helper', 'float64', '{not_my_parent}']"
                             ").returncode)"])
    assert result.returncode == ORPHANED


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["speed", "sgd"])
def test_the_warm_up_leaves_no_batchnorm_kernel_to_compile_in_the_run(mnist, mode):
    """After compile_kernels(batchnorm=True), a batch-normalised net's run on MNIST (sparse probe
    panels, test accuracy at the epoch's end) adds no signature to any kernel: nothing compiles
    after the nets leave COMPILING."""
    from numba.core.registry import CPUDispatcher

    def signatures() -> dict[str, int]:
        return {f"{name}.{attribute}": len(kernel.signatures)
                for name, module in list(sys.modules.items()) if name.startswith("vgrad.core")
                for attribute, kernel in vars(module).items() if isinstance(kernel, CPUDispatcher)}

    warmup.compile_kernels("float64", modes=(mode,), batchnorm=True)
    before = signatures()
    for _ in run_experiment(parse_net("784-30-30-10:batchnorm"), mnist, Config(mode=mode, epochs=1)):
        pass
    after = signatures()
    assert {name: count for name, count in after.items() if before.get(name) != count} == {}
