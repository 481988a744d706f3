"""The clock of the producers that are not trainers (Replayer, FollowRunner): a daemon thread that
calls `tick(seconds since the last tick)` every `period` seconds until stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Ticker:
    def __init__(self, tick: Callable[[float], object], period: float, name: str) -> None:
        self.tick = tick
        self.period = period
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended (or never started)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        last = time.perf_counter()
        while not self._stop.wait(self.period):
            now = time.perf_counter()
            self.tick(now - last)
            last = now
