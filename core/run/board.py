"""The board: the newest state of every net, which workers write and the UI polls.

Writers call publish()/set_state() from worker threads; readers call snapshot(),
which returns frozen views, so the UI never holds the lock while it draws. Whether the run
is paused lives here and only here: the controls set it, the workers wait on it, and a
snapshot shows each running net as paused while it is set.
History is thinned as it grows (record.history.History: keep every 2nd point, double the
stride), so a long run keeps at most `capacity` points per net and memory stays flat.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from vgrad.core.record.history import HISTORY_CAPACITY, History
from vgrad.core.record.step import StepRecord
from vgrad.core.status import NetState
from vgrad.core.subject import Subject


@dataclass(frozen=True)
class NetView:
    """One net as the UI sees it at one instant."""

    index: int
    spec: Subject
    state: NetState
    latest: StepRecord | None
    history: tuple[StepRecord, ...]   # downsampled, oldest first; ends with `latest`
    total_epochs: int
    steps_per_second: float           # parameter updates per second, recent
    message: str = ""                 # the error or divergence reason
    records: int = 0                  # records published since the net (re)started, kept or thinned

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", NetState(self.state))  # "running" given as a word is the state


@dataclass(frozen=True)
class BoardView:
    version: int                      # grows with every change; equal versions are equal views
    nets: tuple[NetView, ...]
    notices: tuple[str, ...] = ()     # run-wide warnings (a recording that failed to write, …)
    paused: bool = False              # the whole run is paused (running nets show as paused)

    @property
    def finished(self) -> bool:
        """Every net is in a final state (stopped ones included)."""
        return all(net.state.final for net in self.nets)

    @property
    def complete(self) -> bool:
        """Every net ended by itself (done, diverged or error): nobody stopped it."""
        return all(net.state.final and net.state not in (NetState.STOPPED, NetState.INTERRUPTED) for net in self.nets)


@dataclass
class _Slot:
    spec: Subject
    total_epochs: int
    history: History[StepRecord]
    state: NetState = NetState.WAITING
    latest: StepRecord | None = None
    message: str = ""
    rate: float = 0.0
    rate_mark: tuple[float, int] | None = None


class Board:
    """Lock-guarded latest state and bounded history for each net."""

    def __init__(self, specs: tuple[Subject, ...], total_epochs: int, capacity: int = HISTORY_CAPACITY):
        self._lock = threading.Lock()
        self._specs = specs
        self._total_epochs = total_epochs
        self._capacity = capacity
        self._version = 0
        self._notices: list[str] = []
        self._paused = False
        self._slots = [self._new_slot(spec) for spec in specs]

    def _new_slot(self, spec: Subject) -> _Slot:
        return _Slot(spec=spec, total_epochs=self._total_epochs, history=History(self._capacity))

    def reset(self) -> None:
        """Forget every net's records (a restart)."""
        with self._lock:
            self._slots = [self._new_slot(spec) for spec in self._specs]
            self._version += 1

    def restart(self, net: int, spec: Subject, total_epochs: int) -> None:
        """Forget net `net`'s records: a new run, perhaps of another model (a followed file replaced)."""
        with self._lock:
            self._specs = (*self._specs[:net], spec, *self._specs[net + 1:])
            self._slots[net] = _Slot(spec=spec, total_epochs=total_epochs, history=History(self._capacity))
            self._version += 1

    def publish(self, record: StepRecord, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        with self._lock:
            slot = self._slots[record.net]
            slot.latest = record
            slot.history.add(record)
            _update_rate(slot, record.step, now)
            self._version += 1

    def set_state(self, net: int, state: NetState | str, message: str = "") -> None:
        """A net's own state; PAUSED is not one (see set_paused)."""
        state = NetState(state)
        assert state is not NetState.PAUSED, "pause the run with set_paused"
        with self._lock:
            slot = self._slots[net]
            slot.state = state
            if message:
                slot.message = message
            self._version += 1

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the whole run (the one place this is held; the workers read it)."""
        with self._lock:
            if paused != self._paused:
                self._paused = paused
                self._version += 1

    def notice(self, text: str) -> None:
        with self._lock:
            if text not in self._notices:
                self._notices.append(text)
                self._version += 1

    def snapshot(self) -> BoardView:
        with self._lock:
            nets = tuple(
                NetView(index=i, spec=s.spec, state=self._shown_state(s.state), latest=s.latest,
                        history=s.history.view(s.latest), total_epochs=s.total_epochs,
                        steps_per_second=s.rate, message=s.message, records=s.history.seen)
                for i, s in enumerate(self._slots))
            return BoardView(version=self._version, nets=nets, notices=tuple(self._notices),
                             paused=self._paused)

    def _shown_state(self, state: NetState) -> NetState:
        return NetState.PAUSED if self._paused and state is NetState.RUNNING else state


def _update_rate(slot: _Slot, step: int, now: float, window: float = 0.5) -> None:
    """Steps per second over the last ≥ `window` seconds."""
    if slot.rate_mark is None:
        slot.rate_mark = (now, step)
        return
    then, step_then = slot.rate_mark
    if now - then >= window:
        slot.rate = (step - step_then) / (now - then)
        slot.rate_mark = (now, step)
