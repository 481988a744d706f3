"""The warm-up compiles off the main thread, so Ctrl+C always reaches the caller."""

import ctypes
import os
import signal
import threading

import pytest

from vgrad.core.train.warmup import off_the_main_thread


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
