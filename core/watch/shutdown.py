"""An end line on every signal, in a process vgrad only watches.

SIGTERM and SIGHUP (a job killed, an SSH session gone) end a Python process at once: no
`finally`, no atexit, so a Recorder's file would end without its end line. While a Recorder is
open, each of these signals whose action is still the default gets a handler that closes every
open Recorder ("interrupted"), puts the default action back and sends itself the signal again:
the process ends as it would have, by the same signal. A handler the process set (before or
after) is never touched, and the default comes back when the last Recorder closes. Handlers
can be set only from the main thread: a Recorder opened on another thread sets none. As any
Python handler, it runs when the main thread next runs Python: a process stuck in one C call
waits for it (or for SIGKILL), where the default action would have ended it at once.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

SIGNALS = ("SIGTERM", "SIGHUP")

Close = Callable[[], None]

_lock = threading.RLock()   # the handler may run while the main thread holds it
_closers: dict[int, Close] = {}   # by id of the owner
_installed: set[int] = set()      # the signals whose default action our handler stands in for


def opened(owner: object, close: Close) -> None:
    """`close()` ends `owner`'s file (its end line) if a default-action signal comes."""
    with _lock:
        _closers[id(owner)] = close
        if threading.current_thread() is threading.main_thread():
            for name in SIGNALS:
                number = getattr(signal, name, None)
                if number is not None and number not in _installed and signal.getsignal(number) is signal.SIG_DFL:
                    signal.signal(number, _end_then_die)
                    _installed.add(number)


def closed(owner: object) -> None:
    """`owner`'s file is closed: forget it, and give back the default action after the last one."""
    with _lock:
        _closers.pop(id(owner), None)
        if _closers or threading.current_thread() is not threading.main_thread():
            return
        for number in list(_installed):
            if signal.getsignal(number) is _end_then_die:   # not replaced by the process since
                signal.signal(number, signal.SIG_DFL)
            _installed.discard(number)


def _end_then_die(number: int, frame: object) -> None:
    """Close every open file, then die of `number` as the default action would have."""
    for close in list(_closers.values()):
        try:
            close()
        except Exception:   # noqa: BLE001 - the process is ending: the other files still get theirs
            pass
    signal.signal(number, signal.SIG_DFL)
    _installed.discard(number)
    os.kill(os.getpid(), number)
