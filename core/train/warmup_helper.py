"""The second process of a cold compile (see warmup.py): `python -m vgrad.core.train.warmup_helper
DTYPE PARENT_PID` compiles _backprop for DTYPE into numba's cache and exits.

It dies with its parent: on Ctrl+C (the signal reaches the whole process group) at once, and,
should the parent end another way, within a poll of noticing it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PARENT_POLL = 0.2  # seconds between checks that the parent still runs
ORPHANED = 3  # exit status when the parent was found gone


def _die_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(ORPHANED)


def main(argv: list[str]) -> int:
    dtype, parent = argv[0], int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # ctypes would swallow it inside LLVM's callbacks
    threading.Thread(target=_die_with, args=(parent,), daemon=True).start()

    from vgrad.core.engine import kernels
    from vgrad.core.train.warmup import backward_arguments, tiny_trainer

    kernels._backprop(*backward_arguments(tiny_trainer(dtype)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
