"""The board: the newest state of every net, which workers write and the UI polls.

Writers call publish()/set_state() from worker threads; readers call snapshot(),
which returns frozen views, so the UI never holds the lock while it draws.
History is downsampled as it grows (keep every 2nd point, double the stride), so a
long run keeps at most `capacity` points per net and memory stays flat.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from vgrad.core.record.step import StepRecord
from vgrad.core.run.spec import NetSpec

STATES = ("waiting", "compiling", "running", "paused", "done", "diverged", "error", "stopped")
FINAL_STATES = ("done", "diverged", "error", "stopped")
HISTORY_CAPACITY = 1024


@dataclass(frozen=True)
class NetView:
    """One net as the UI sees it at one instant."""

    index: int
    spec: NetSpec
    state: str
    latest: StepRecord | None
    history: tuple[StepRecord, ...]   # downsampled, oldest first; ends with `latest`
    total_epochs: int
    steps_per_second: float           # parameter updates per second, recent
    message: str = ""                 # the error or divergence reason


@dataclass(frozen=True)
class BoardView:
    version: int                      # grows with every change; equal versions are equal views
    nets: tuple[NetView, ...]
    notices: tuple[str, ...] = ()     # run-wide warnings (a recording that failed to write, …)

    @property
    def finished(self) -> bool:
        return all(net.state in FINAL_STATES for net in self.nets)


@dataclass
class _History:
    capacity: int
    points: list = field(default_factory=list)
    stride: int = 1
    seen: int = 0

    def add(self, record: StepRecord) -> None:
        if self.seen % self.stride == 0:
            self.points.append(record)
            if len(self.points) >= self.capacity:
                self.points = self.points[::2]
                self.stride *= 2
        self.seen += 1

    def view(self, latest: StepRecord | None) -> tuple[StepRecord, ...]:
        if latest is not None and (not self.points or self.points[-1] is not latest):
            return (*self.points, latest)
        return tuple(self.points)


@dataclass
class _Slot:
    spec: NetSpec
    total_epochs: int
    history: _History
    state: str = "waiting"
    latest: StepRecord | None = None
    message: str = ""
    rate: float = 0.0
    rate_mark: tuple[float, int] | None = None


class Board:
    """Lock-guarded latest state and bounded history for each net."""

    def __init__(self, specs: tuple[NetSpec, ...], total_epochs: int, capacity: int = HISTORY_CAPACITY):
        self._lock = threading.Lock()
        self._specs = specs
        self._total_epochs = total_epochs
        self._capacity = capacity
        self._version = 0
        self._notices: list[str] = []
        self._slots = [self._new_slot(spec) for spec in specs]

    def _new_slot(self, spec: NetSpec) -> _Slot:
        return _Slot(spec=spec, total_epochs=self._total_epochs, history=_History(self._capacity))

    def reset(self) -> None:
        """Forget every net's records (a restart)."""
        with self._lock:
            self._slots = [self._new_slot(spec) for spec in self._specs]
            self._version += 1

    def publish(self, record: StepRecord, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        with self._lock:
            slot = self._slots[record.net]
            slot.latest = record
            slot.history.add(record)
            _update_rate(slot, record.step, now)
            self._version += 1

    def set_state(self, net: int, state: str, message: str = "") -> None:
        assert state in STATES, state
        with self._lock:
            slot = self._slots[net]
            slot.state = state
            if message:
                slot.message = message
            self._version += 1

    def notice(self, text: str) -> None:
        with self._lock:
            if text not in self._notices:
                self._notices.append(text)
                self._version += 1

    def snapshot(self) -> BoardView:
        with self._lock:
            nets = tuple(
                NetView(index=i, spec=s.spec, state=s.state, latest=s.latest,
                        history=s.history.view(s.latest), total_epochs=s.total_epochs,
                        steps_per_second=s.rate, message=s.message)
                for i, s in enumerate(self._slots))
            return BoardView(version=self._version, nets=nets, notices=tuple(self._notices))


def _update_rate(slot: _Slot, step: int, now: float, window: float = 0.5) -> None:
    """Steps per second over the last ≥ `window` seconds."""
    if slot.rate_mark is None:
        slot.rate_mark = (now, step)
        return
    then, step_then = slot.rate_mark
    if now - then >= window:
        slot.rate = (step - step_then) / (now - then)
        slot.rate_mark = (now, step)
