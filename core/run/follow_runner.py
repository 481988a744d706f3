"""Feed a Board from followed run files: the watch's Controls, as the Runner is the live run's.

Each file owns fixed board slots (its nets when the watch starts, else one). Records go
to the board as they are read; a new run in a file restarts its slots; a file not there
yet shows "waiting", a writer quiet for SILENT_AFTER seconds "no new data for N s", a file
that is not a vgrad run its error, while the other panels go on. Every layer is shown (a deep
model's panel is a heatmap), or the layers `--layers` picks; the first and the last are always
among them, so the headline is the model's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.record.format import FINAL_EVENT_KINDS, RESTART
from vgrad.core.record.model import ModelSpec
from vgrad.core.record.step import StepRecord
from vgrad.core.record.tail import Failed, Follower, FollowItem, Started
from vgrad.core.run.board import Board
from vgrad.core.run.ticker import Ticker
from vgrad.core.spec import MAX_NETS, NetSpec
from vgrad.core.status import FINAL_STATES, EndStatus, NetState

POLL_SECONDS = 0.05         # a new record reaches the board within this (plus the read)
SILENT_AFTER = 5.0          # seconds without new data before a panel says so
DEFAULT_LAYERS = "0,1,mid,-2,-1"

Listener = Callable[[Path, StepRecord, object], None]


def parse_layers(text: str | None) -> tuple[str, ...] | None:
    """`--layers 0,1,mid,-2,-1` (indices from 0, negative from the end, `mid`) or `all`; None: the default."""
    if text is None:
        return None
    words = tuple(word.strip().lower() for word in text.split(","))
    if words == ("all",):
        return words
    for word in words:
        if word != "mid" and not word.lstrip("-").isdigit():
            raise InputError(f"--layers {text!r}: {word!r} is not a layer index, `mid` or `all` "
                             "(e.g. 0,1,mid,-2,-1)")
    return words


def select(count: int, words: tuple[str, ...] | None) -> tuple[int, ...]:
    """The layers shown of a model with `count` layers, in order; always the first and the last."""
    if words == ("all",) or words is None:     # every layer by default: a deep model's panel is a heatmap
        return tuple(range(count))
    chosen = {0, count - 1}
    for word in words or DEFAULT_LAYERS.split(","):
        index = count // 2 if word == "mid" else int(word)
        if -count <= index < count:
            chosen.add(index % count)
    return tuple(sorted(chosen))


def project_spec(spec: NetSpec | ModelSpec, shown: tuple[int, ...]) -> NetSpec | ModelSpec:
    if not isinstance(spec, ModelSpec) or len(shown) == spec.hidden:
        return spec
    return replace(spec, layers=tuple(spec.layers[i] for i in shown), total=spec.hidden)


def project(record: StepRecord, net: int, shown: tuple[int, ...] | None) -> StepRecord:
    """`record` as board slot `net` sees it: only the `shown` layers."""
    if shown is None:
        return record if record.net == net else replace(record, net=net)
    return replace(record, net=net, speed=tuple(record.speed[i] for i in shown),
                   neurons=tuple(record.neurons[i] for i in shown),
                   weight_grad=None if record.weight_grad is None else tuple(record.weight_grad[i] for i in shown))


def waiting_spec(path: Path) -> ModelSpec:
    """A panel's spec until its file's header is read: no layers yet."""
    return ModelSpec(name=path.name, layers=())


@dataclass
class FollowedFile:
    """One file and the board slots [first, first + slots) it owns."""

    follower: Follower
    first: int
    slots: int
    shown: list[tuple[int, ...] | None] = field(default_factory=list)   # per net: the layers shown, None: all
    pending: list[FollowItem] = field(default_factory=list)            # items read while planning, fed at start

    @property
    def path(self) -> Path:
        return self.follower.path


def plan(paths: Sequence[str | Path], layers: str | None = None, clock: Callable[[], float] = time.monotonic
         ) -> tuple[tuple[NetSpec | ModelSpec, ...], list[FollowedFile]]:
    """The board's initial specs and the files' slots: a file's nets if it can be read now, else one."""
    specs: list[NetSpec | ModelSpec] = []
    files = []
    for path in map(Path, paths):
        follower = Follower(path, clock=clock)
        pending = follower.poll()
        started = next((item for item in pending if isinstance(item, Started)), None)
        count = len(started.parser.specs) if started else 1
        files.append(FollowedFile(follower, first=len(specs), slots=count, pending=pending))
        specs.extend(started.parser.specs if started else [waiting_spec(path)])
    if len(specs) > MAX_NETS:
        raise InputError(f"watch shows at most {MAX_NETS} panels; these files hold {len(specs)} nets")
    words = parse_layers(layers)
    specs = [project_spec(spec, select(spec.hidden, words)) for spec in specs]
    return tuple(specs), files


@dataclass
class _Told:
    """What the runner last told the board about one slot."""

    spec: NetSpec | ModelSpec
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
        self._slots = {net.index: _Told(net.spec, net.state, net.message, net.total_epochs)
                       for net in board.snapshot().nets}
        for file in files:
            if not file.pending:
                self._set_states(file, NetState.WAITING, f"waiting for {file.path} to appear")

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
        """Every file's writer wrote its end line (or the file failed)."""
        return all(file.follower.ended or file.follower.failure for file in self.files)

    def _tick(self, seconds: float) -> None:
        if not self.board.paused:
            self.poll()

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
        elif item["type"] == "end":
            status = item.get("status", "?")
            for slot in range(file.first, file.first + file.slots):
                if self._slots[slot].state not in FINAL_STATES:
                    self._set(slot, NetState.DONE if status == EndStatus.COMPLETE else NetState.STOPPED,
                              f"the writer ended: {status}")
        elif item["net"] < file.slots:
            slot = file.first + item["net"]
            if item["kind"] == RESTART:
                told = self._slots[slot]
                self._restart(slot, told.spec, told.total)
            elif item["kind"] in FINAL_EVENT_KINDS:
                self._set(slot, item["kind"], str(item.get("message") or ""))

    def _start(self, file: FollowedFile, started: Started) -> None:
        specs = started.parser.specs
        total = started.parser.config.n_epochs
        file.shown = []
        for net, spec in enumerate(specs[:file.slots]):
            shown = select(spec.hidden, self.words) if isinstance(spec, ModelSpec) else None
            shown = None if shown is not None and len(shown) == spec.hidden else shown
            file.shown.append(shown)
            self._restart(file.first + net, spec if shown is None else project_spec(spec, shown), total)
        for slot in range(file.first + len(specs), file.first + file.slots):
            self._restart(slot, waiting_spec(file.path), 0)
            self._set(slot, NetState.STOPPED, f"this run of {file.path.name} has {len(specs)} nets")
        if len(specs) > file.slots:
            self.board.notice(f"{file.path}: a new run with {len(specs)} nets; showing {file.slots}")

    def _show_silence(self, file: FollowedFile, fresh: bool) -> None:
        follower = file.follower
        if follower.parser is None or follower.ended or follower.failure:
            return
        quiet = follower.silent_for
        for slot in range(file.first, file.first + min(file.slots, len(file.shown))):
            state, message = self._slots[slot].state, self._slots[slot].message
            if fresh and state == NetState.SILENT:
                self._set(slot, NetState.RUNNING, "")
            elif quiet >= self.silent_after and state in (NetState.RUNNING, NetState.SILENT):
                silence = f"no new data for {int(quiet)} s"
                if message != silence:
                    self._set(slot, NetState.SILENT, silence)

    # the board, and what this runner last told it
    def _set(self, slot: int, state: str, message: str) -> None:
        self._slots[slot].state, self._slots[slot].message = state, message
        self.board.set_state(slot, state, message)

    def _set_states(self, file: FollowedFile, state: str, message: str) -> None:
        for slot in range(file.first, file.first + file.slots):
            self._set(slot, state, message)

    def _restart(self, slot: int, spec: NetSpec | ModelSpec, total: int) -> None:
        self._slots[slot] = _Told(spec, NetState.RUNNING, "", total)
        self.board.restart(slot, spec, total)
        self.board.set_state(slot, NetState.RUNNING)
