"""Feed a Board from followed run files: the watch's Controls, as the Runner is the live run's.

Each file owns fixed board slots (its nets when the watch starts, else one). Records go
to the board as they are read; a new run in a file restarts its slots; a file not there
yet shows "waiting", a writer quiet for SILENT_AFTER seconds "no new data for N s", a file
that is not a vgrad run its error, while the other panels go on. A quiet file that no vgrad
writer holds any more (killed with no end line: guard.writer_holds) is ended "the writer is
gone", so a follower never waits for it forever; it is followed again if it grows. A model shows every layer
(a deep one's panel is a heatmap), or the layers `--layers` picks (core/run/layers.py); the
first and the last are always among them, so the headline is the model's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.guard import writer_holds
from vgrad.core.record.events import End, Started
from vgrad.core.record.format import FINAL_EVENT_KINDS, RESTART
from vgrad.core.record.model import ModelSpec
from vgrad.core.record.step import StepRecord
from vgrad.core.record.tail import Failed, Follower, FollowItem
from vgrad.core.run.board import Board
from vgrad.core.run.layers import parse_layers, project, project_spec, select, shown_of
from vgrad.core.run.ticker import Ticker
from vgrad.core.spec import MAX_NETS
from vgrad.core.status import FINAL_STATES, EndStatus, NetState
from vgrad.core.subject import Subject
from vgrad.core.text import printable

POLL_SECONDS = 0.05         # a new record reaches the board within this (plus the read)
SILENT_AFTER = 5.0          # seconds without new data before a panel says so
LOOK_FOR_WRITER_S = 1.0     # a quiet file's lock is looked at this often
WRITER_GONE = "the writer is gone without an end line (killed?)"

Listener = Callable[[Path, StepRecord, object], None]


def waiting_spec(path: Path) -> ModelSpec:
    """A panel's spec until its file's header is read: no layers yet."""
    return ModelSpec(name=printable(path.name), layers=())


@dataclass
class FollowedFile:
    """One file and the board slots [first, first + slots) it owns."""

    follower: Follower
    first: int
    slots: int
    shown: list[tuple[int, ...] | None] = field(default_factory=list)   # per net: the layers shown, None: all
    pending: list[FollowItem] = field(default_factory=list)            # items read while planning, fed at start
    locked: bool = False        # its writer is vgrad's, which holds the file's lock while it writes
    gone: bool = False          # quiet, and no writer holds it any more
    looked: float = float("-inf")   # when its lock was last looked at

    @property
    def path(self) -> Path:
        return self.follower.path


def plan(paths: Sequence[str | Path], layers: str | None = None, clock: Callable[[], float] = time.monotonic
         ) -> tuple[tuple[Subject, ...], list[FollowedFile]]:
    """The board's initial specs and the files' slots: a file's nets if it can be read now, else one."""
    specs: list[Subject] = []
    files = []
    for path in map(Path, paths):
        follower = Follower(path, clock=clock)
        pending = follower.poll()
        started = next((item for item in pending if isinstance(item, Started)), None)
        count = len(started.specs) if started else 1
        files.append(FollowedFile(follower, first=len(specs), slots=count, pending=pending))
        specs.extend(started.specs if started else [waiting_spec(path)])
    if len(specs) > MAX_NETS:
        raise InputError(f"watch shows at most {MAX_NETS} panels; these {len(files)} files would take {len(specs)} "
                         "(one per net of a file, one per file not there yet)")
    words = parse_layers(layers)
    specs = [project_spec(spec, select(spec.hidden, words)) for spec in specs]
    return tuple(specs), files


@dataclass
class _Told:
    """What the runner last told the board about one slot."""

    spec: Subject
    state: str
    message: str
    total: int


class FollowRunner:
    """Polls every followed file on a thread and feeds the board; satisfies Controls."""

    def __init__(self, files: list[FollowedFile], board: Board, *, layers: str | None = None,
                 listener: Listener | None = None, poll_seconds: float = POLL_SECONDS,
                 silent_after: float = SILENT_AFTER) -> None:
        self.files = files
        self.board = board
        self.words = parse_layers(layers)
        self.listener = listener
        self.poll_seconds = poll_seconds
        self.silent_after = silent_after
        self._lock = threading.RLock()
        self._ticker = Ticker(self._tick, poll_seconds, "vgrad-watch")
        self.crash: str | None = None       # why the reading stopped, if a poll failed
        self._slots = {net.index: _Told(net.spec, net.state, net.message, net.total_epochs)
                       for net in board.snapshot().nets}
        for file in files:
            if not file.pending:
                waiting = (f"waiting for the first line of {file.path}" if file.follower.exists
                           else f"waiting for {file.path} to appear")
                self._set_states(file, NetState.WAITING, waiting)

    # Controls
    @property
    def paused(self) -> bool:
        return self.board.paused

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def join(self, timeout: float | None = None) -> bool:
        return self._ticker.join(timeout)

    def toggle_pause(self) -> None:
        """Paused, the files are not read (their writers go on); resuming catches up."""
        self.board.set_paused(not self.board.paused)

    def step(self) -> None:
        """While paused: read once."""
        self.poll()

    def restart(self) -> None:
        """Read every file again from its start."""
        with self._lock:
            for file in self.files:
                file.follower.close()
                file.follower = Follower(file.path, clock=file.follower.clock)
                file.pending = []
            for slot, told in list(self._slots.items()):
                self._restart(slot, told.spec, told.total)
            for file in self.files:
                self._set_states(file, NetState.WAITING, f"reading {file.path} again")

    @property
    def all_ended(self) -> bool:
        """Every file's writer wrote its end line or is gone (or the file failed)."""
        return all(file.follower.ended or file.follower.failure or file.gone for file in self.files)

    def _tick(self, seconds: float) -> None:
        """One poll on the ticker's thread; a fault is shown on every panel and ends the reading,
        never a poller that dies without a word while the panels look alive."""
        if self.board.paused or self.crash is not None:
            return
        try:
            self.poll()
        except Exception as error:  # noqa: BLE001 - anything at all: the panels must say it
            self.crash = printable(f"watch stopped reading: {type(error).__name__}: {error}")
            self._ticker.stop()
            with self._lock:
                for file in self.files:
                    self._set_states(file, NetState.ERROR, self.crash)

    # reading
    def poll(self) -> int:
        """Read what is new in every file onto the board; return the items read."""
        count = 0
        with self._lock:
            for file in self.files:
                items, file.pending = file.pending + file.follower.poll(), []
                for item in items:
                    self._take(file, item)
                count += len(items)
                self._show_silence(file, bool(items))
        return count

    def _take(self, file: FollowedFile, item: FollowItem) -> None:
        if isinstance(item, StepRecord):
            if item.net < file.slots:
                record = project(item, file.first + item.net, file.shown[item.net])
                self.board.publish(record)
                if self.listener is not None:
                    self.listener(file.path, record, self._slots[record.net].spec)
        elif isinstance(item, Started):
            self._start(file, item)
        elif isinstance(item, Failed):
            self._set_states(file, NetState.ERROR, item.message)
        elif isinstance(item, End):
            for slot in range(file.first, file.first + file.slots):
                if self._slots[slot].state not in FINAL_STATES:
                    self._set(slot, NetState.DONE if item.status == EndStatus.COMPLETE
                              else NetState.cut_short(item.status), f"the writer ended: {item.status}")
        elif item.net < file.slots:
            slot = file.first + item.net
            if item.kind == RESTART:
                told = self._slots[slot]
                self._restart(slot, told.spec, told.total)
            elif item.kind in FINAL_EVENT_KINDS:
                self._set(slot, item.kind, item.message or "")

    def _start(self, file: FollowedFile, started: Started) -> None:
        file.locked = started.locked
        specs = started.specs
        total = started.config.n_epochs
        file.shown = []
        for net, spec in enumerate(specs[:file.slots]):
            shown = shown_of(spec, self.words)
            file.shown.append(shown)
            self._restart(file.first + net, spec if shown is None else project_spec(spec, shown), total)
        for slot in range(file.first + len(specs), file.first + file.slots):
            self._restart(slot, waiting_spec(file.path), 0)
            self._set(slot, NetState.STOPPED, f"this run of {file.path.name} has {len(specs)} nets")
        if len(specs) > file.slots:
            self.board.notice(printable(f"{file.path}: a new run with {len(specs)} nets; showing {file.slots}"))

    def _show_silence(self, file: FollowedFile, fresh: bool) -> None:
        follower = file.follower
        if follower.parser is None and follower.exists and not follower.failure:
            self._empty_and_unheld(file)
            return
        if follower.parser is None or follower.ended or follower.failure:
            return
        quiet = follower.silent_for
        if fresh:
            file.gone = False
        elif file.locked:
            file.gone = self._writer_gone(file)
        for slot in range(file.first, file.first + min(file.slots, len(file.shown))):
            state, message = self._slots[slot].state, self._slots[slot].message
            if file.gone:
                if state in (NetState.RUNNING, NetState.SILENT):
                    self._set(slot, NetState.STOPPED, WRITER_GONE)
            elif fresh and (state == NetState.SILENT or message == WRITER_GONE):
                self._set(slot, NetState.RUNNING, "")
            elif quiet >= self.silent_after and state in (NetState.RUNNING, NetState.SILENT):
                silence = f"no new data for {int(quiet)} s"
                if message != silence:
                    self._set(slot, NetState.SILENT, silence)

    def _empty_and_unheld(self, file: FollowedFile) -> None:
        """A file there but without its header: every vgrad writer locks its file before it writes
        anything, so one quiet for silent_after that nobody holds has no writer coming."""
        if not file.gone and self._writer_gone(file):
            file.gone = True
            self._set_states(file, NetState.STOPPED, f"{file.path.name} is empty and no writer holds it")

    def _writer_gone(self, file: FollowedFile) -> bool:
        """Whether `file`, quiet for silent_after, is held by no writer (gone stays gone; the lock is
        looked at once per LOOK_FOR_WRITER_S at most)."""
        if file.gone:
            return True
        now = time.monotonic()
        if file.follower.silent_for < self.silent_after or now - file.looked < LOOK_FOR_WRITER_S:
            return False
        file.looked = now
        return writer_holds(file.path) is False

    # the board, and what this runner last told it
    def _set(self, slot: int, state: str, message: str) -> None:
        message = printable(message)     # paths and a file's own words: shown, never obeyed
        self._slots[slot].state, self._slots[slot].message = state, message
        self.board.set_state(slot, state, message)

    def _set_states(self, file: FollowedFile, state: str, message: str) -> None:
        for slot in range(file.first, file.first + file.slots):
            self._set(slot, state, message)

    def _restart(self, slot: int, spec: Subject, total: int) -> None:
        self._slots[slot] = _Told(spec, NetState.RUNNING, "", total)
        self.board.restart(slot, spec, total)
        self.board.set_state(slot, NetState.RUNNING)
