"""Writers of a run as it goes: the run file's one JSONL writer (`--record` and `vgrad.Recorder`
alike), and a flat CSV.

Each writes to an Output claimed before the run (guard.claim_output: never an existing file
unless asked, never a FIFO, device or an input, locked against a second writer).

RunWriter's rules, for whoever writes a run file:
- Lines are written in order by one writer thread, straight to the file descriptor (no buffer
  a forked child could flush twice); what arrives within WRITE_PAUSE_S goes out in one write.
- Every line is valid JSON of at most MAX_LINE bytes: non-finite numbers anywhere become the
  strings "nan", "inf", "-inf"; a row that cannot be encoded, or would be longer, is dropped
  (counted, named in `failure`), never the writer.
- The queue is bounded (`capacity` items). A full queue makes `put` wait up to STALL_S for room,
  so a slow disk slows the loop and nothing is lost; if no room comes, the destination has
  stalled (a pipe nobody reads, a hung mount): that item and every later one until the writer
  makes room are dropped and counted, and the loop goes on at full speed in bounded memory.
- A write error (a full disk) stops the writing: the file stays a valid prefix; later lines
  are counted as not written.
- `close(end)` waits at most CLOSE_S for the queue to drain; `failure` then says how many lines
  were not written, the end line among them if so.
- After fork(), the child's copy is inert: it closes its copy of the descriptor (so the lock
  goes with the parent's), writes nothing, and its `close()` returns at once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from vgrad.core.guard import Output, claim_output
from vgrad.core.record.events import End, Event
from vgrad.core.record.format import MAX_LINE
from vgrad.core.record.step import StepRecord
from vgrad.core.spec import NetSpec

WRITE_PAUSE_S = 0.1    # the writer gathers what arrives within this: a line is on disk this much later at most
STALL_S = 5.0          # a full queue that gets no room for this long means the destination has stalled
CLOSE_S = 10.0         # close() waits at most this for the queue to drain
CAPACITY = 4096        # items queued at most (a caller with big items passes fewer)
CHUNK = 1 << 20        # bytes handed to one write() at most (unless one line is longer)

Row = dict[str, Any]


def encode(row: Row) -> bytes:
    """One line of JSON (strict: NaN and ±inf as the strings "nan", "inf", "-inf"), newline included."""
    try:
        text = json.dumps(row, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(row), allow_nan=False)
    return (text + "\n").encode()


def _finite(value: Any) -> Any:
    """`value` with every non-finite float, however deep, as its string."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def plain_rows(item: object) -> Iterable[Row]:
    """A queued item as lines: a row (the header) as itself, a StepRecord, Event or End as its JSON."""
    if isinstance(item, (StepRecord, Event, End)):
        return (item.to_json(),)
    if isinstance(item, dict):
        return (item,)
    raise TypeError(f"cannot write a {type(item).__name__}")


_LIVE: weakref.WeakSet[RunWriter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for writer in list(_LIVE):
        writer._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)


class RunWriter:
    """The lines of one run file, written in order on a writer thread from a bounded queue.

    `put` queues a StepRecord, Event or header row (or whatever `rows` turns into rows on the
    writer thread: their `to_json()`, built in one place, core/record/events.py; `line` makes
    each row a line, JSON unless told otherwise); `close(end)`
    writes what is queued, the end line, and closes the file. Neither raises into training:
    what could not be written is counted in `unwritten` and said in `failure`."""

    def __init__(self, output: Output, header: Row | None = None, *,
                 rows: Callable[[object], Iterable[Any]] = plain_rows, line: Callable[[Any], bytes] = encode,
                 capacity: int = CAPACITY,
                 pause: float = WRITE_PAUSE_S, stall: float = STALL_S, close_wait: float = CLOSE_S) -> None:
        self.path: Path = output.path
        self.failure: str | None = None   # why lines were not written (and how many), else None
        self.unwritten = 0                # items not written (dropped, refused, or left when closing)
        self.forked = False               # this is a forked child's copy: it writes nothing
        self._rows, self._line = rows, line
        self._capacity, self._pause, self._stall, self._close_wait = max(1, capacity), pause, stall, close_wait
        self._cond = threading.Condition()
        self._items: deque[object] = deque() if header is None else deque([header])
        self._closing = False
        self._stalled = False     # the last put found no room within `stall`: drop until there is room
        self._broken = ""         # why writing failed: nothing more is written
        self._bad = ""            # the first item that could not be encoded: the reason later ones are counted under
        self._in_flight = 0       # items taken from the queue and not yet written
        self.reasons: dict[str, int] = {}   # why lines were not written: how many for each reason
        self._fd: int | None = output.descriptor()
        _LIVE.add(self)
        self._thread = threading.Thread(target=self._run, name=f"vgrad-writer {self.path.name}", daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def queued(self) -> int:
        """Items waiting for the writer thread (at most `capacity`, and the end line)."""
        return len(self._items)

    def put(self, item: object) -> bool:
        """Queue one item; False (and counted) if it was dropped: the writer is closed, or the
        destination stalled (see the module's rules)."""
        with self._cond:
            if self._closing:
                return False
            if len(self._items) >= self._capacity:
                if not self._stalled:
                    self._cond.notify_all()   # wake the writer if it is gathering
                    self._stalled = not self._cond.wait_for(
                        lambda: len(self._items) < self._capacity or self._closing, self._stall)
                if self._stalled or self._closing:
                    self._lose("the destination stopped taking lines (stalled for "
                               f"{self._stall:g} s); training goes on")
                    return False
            self._stalled = False
            self._items.append(item)
            if len(self._items) == 1 or len(self._items) >= self._capacity:
                self._cond.notify_all()
            return True

    def close(self, end: End | None = None) -> None:
        """Write what is queued and `end`, and close the file, waiting at most `close_wait`
        seconds; again: nothing. In a forked child: nothing."""
        with self._cond:
            if self._closing or self.forked:
                return
            self._closing = True
            if end is not None:
                self._items.append(end)
            self._cond.notify_all()
        self._thread.join(self._close_wait)
        if self._thread.is_alive():
            with self._cond:
                left = len(self._items) + self._in_flight
            among = ", the end line among them" if end is not None and left > 0 else ""
            self._lose(f"close() stopped waiting after {self._close_wait:g} s: the destination took nothing{among}",
                       count=left)

    def _lose(self, reason: str, count: int = 1) -> None:
        """Count `count` items as not written, for `reason`."""
        with self._cond:
            self.unwritten += count
            self.reasons[reason] = self.reasons.get(reason, 0) + count
            parts = [f"{why} ({n} lines not written)" if n else why for why, n in self.reasons.items()]
            self.failure = "; ".join(parts)

    def why(self) -> list[str]:
        """The reasons lines were not written, so far."""
        with self._cond:
            return list(self.reasons)

    def _run(self) -> None:
        """The writer thread: wait for items, gather for up to `pause` (less when the queue
        fills or closes), write them all in order; after closing, close the file."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._items or self._closing)
                deadline = time.monotonic() + self._pause
                while not self._closing and len(self._items) < self._capacity:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch = list(self._items)
                self._items.clear()
                self._in_flight = len(batch)
                closing = self._closing
                self._cond.notify_all()
            self._write(batch)
            self._in_flight = 0
            if closing:
                with self._cond:
                    if self._items:
                        continue
                self._close_file()
                return

    def _write(self, batch: list[object]) -> None:
        """Encode and write the batch in order, about CHUNK bytes at a time; an item that cannot
        be encoded is dropped, a failed write stops the writing."""
        chunks: list[bytes] = []
        held = size = 0   # items and bytes in `chunks`
        for item in batch:
            try:
                lines = [self._line(row) for row in self._rows(item)]
            except Exception as error:   # whatever it was given, the writer lives on
                self._bad = self._bad or f"an item could not be written (the first: {type(error).__name__}: {error})"
                self._lose(self._bad)
                continue
            if any(len(line) > MAX_LINE for line in lines):
                self._lose(f"a line longer than the {MAX_LINE} bytes a reader accepts was left out")
                continue
            chunks.extend(lines)
            held, size = held + 1, size + sum(map(len, lines))
            if size >= CHUNK:
                self._write_bytes(b"".join(chunks), held)
                chunks, held, size = [], 0, 0
        if chunks:
            self._write_bytes(b"".join(chunks), held)

    def _write_bytes(self, data: bytes, count: int) -> None:
        """Write all of `data` (`count` items); after a failed write, nothing more is written."""
        view = memoryview(data)
        while view:
            if self._broken or self._fd is None:
                self._lose(self._broken or "the file was closed", count)
                return
            try:
                view = view[os.write(self._fd, view):]
            except OSError as error:
                self._broken = f"writing failed ({error.strerror or error}); training goes on unrecorded"
                self._lose(self._broken, count)
                return

    def _close_file(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as error:
                self._lose(f"closing failed ({error.strerror or error})", count=0)
        _LIVE.discard(self)

    def _forget(self) -> None:
        """In a forked child: write nothing, close this copy of the descriptor, and never wait
        on a lock the parent's threads may have held at the fork."""
        self.forked = True
        self._cond = threading.Condition()
        self._items = deque()
        self._closing = True
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


class JsonlRecorder:
    """The run file of a built-in run (`--record`): a Sink over the one RunWriter."""

    def __init__(self, output: Output | str | Path, header: Row):
        if not isinstance(output, Output):
            output = claim_output(output, "output")
        self.path = output.path
        self._writer = RunWriter(output, header)

    @property
    def failure(self) -> str | None:
        return self._writer.failure

    def step(self, record: StepRecord) -> None:
        self._writer.put(record)

    def event(self, net: int, kind: str, *, epoch: int | None = None, step: int | None = None,
              message: str | None = None) -> None:
        self._writer.put(Event(net, str(kind), epoch=epoch, step=step, message=message))

    def end(self, status: str, elapsed: float) -> None:
        self._writer.close(End(str(status), elapsed))

    def close(self) -> None:
        """Write what is queued and close the file without an end line (a run cut short)."""
        self._writer.close()


class CsvRecorder:
    """The same steps as a flat table: one row per record, one column per hidden layer; written
    by a RunWriter, so it has the run file's guarantees (bounded queue, bounded close, fork-safe)."""

    def __init__(self, output: Output | str | Path, specs: tuple[NetSpec, ...]):
        if not isinstance(output, Output):
            output = claim_output(output, "output")
        self.path = output.path
        self.specs = specs
        self._depth = max(spec.hidden for spec in specs)
        columns = ["net", "spec", "epoch", "step", "cost", "accuracy"]
        self._writer = RunWriter(output, None, rows=self._rows, line=_csv_line)
        self._writer.put(columns + [f"speed_{layer + 1}" for layer in range(self._depth)])

    @property
    def failure(self) -> str | None:
        return self._writer.failure

    def _rows(self, item: object) -> Iterable[list[Any]]:
        if isinstance(item, list):
            return (item,)
        if not isinstance(item, StepRecord):
            return ()
        speeds = [repr(v) for v in item.speed] + [""] * (self._depth - len(item.speed))
        accuracy = "" if item.accuracy is None else repr(item.accuracy)
        return ([item.net, self.specs[item.net].label, item.epoch, item.step, repr(item.cost), accuracy, *speeds],)

    def step(self, record: StepRecord) -> None:
        self._writer.put(record)

    def event(self, net: int, kind: str, *, epoch: int | None = None, step: int | None = None,
              message: str | None = None) -> None:
        pass

    def end(self, status: str, elapsed: float) -> None:
        self._writer.close()


def _csv_line(row: list[Any]) -> bytes:
    """One CSV row, with the csv module's quoting and line end (\\r\\n, as RFC 4180 has it)."""
    text = io.StringIO()
    csv.writer(text).writerow(row)
    return text.getvalue().encode()
