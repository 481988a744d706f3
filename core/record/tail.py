"""Follow run files that other processes are writing (`vgrad-tui watch`), like `tail -f`.

A Follower reads what is new in one file at each poll: a half-written last line is held
until its newline arrives; a file that does not exist yet is waited for; a file that is
truncated, replaced (another inode) or rewritten in place (other bytes where we had read,
even under the same header) is a new run and starts again; a FIFO, device or folder is
refused without being opened for long enough to block.
It never decodes more than the board would keep (LineParser thins a long backlog), so
opening a million-step file costs seconds, not gigabytes; a poll reads at most POLL_BUDGET
bytes, so a writer faster than the reader never freezes the panels. No textual, no threads
here: the FollowRunner (core/run/follow_runner.py) polls followers and feeds a Board.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from vgrad.core.errors import InputError
from vgrad.core.guard import _kind, writer_holds  # _kind: one wording for what a path is ("a folder", …)
from vgrad.core.record.events import End, Item, Started
from vgrad.core.record.history import HISTORY_CAPACITY
from vgrad.core.record.reader import MAX_LINE, LineParser
from vgrad.core.text import printable

READ_BUDGET = 4 << 20       # bytes read at a time
POLL_BUDGET = 64 << 20      # bytes read in one poll at most: a writer faster than the reader never freezes it
TAIL_PRINT = 256            # bytes before the read offset compared at each poll: a rewrite in place shows there
STILL_WRITING = 10.0        # seconds: a file without an end line changed this recently is still growing


@dataclass(frozen=True)
class Failed:
    """The file is not a vgrad run, or a line is damaged: what is wrong, in one line naming the file."""

    message: str


FollowItem = Started | Failed | Item   # what poll() returns, in file order: Started when a run begins
                                       # (the first, or a new one after truncation or replacement)


class Follower:
    """One followed file; `poll()` returns what appeared since the last poll, in file order."""

    def __init__(self, path: str | Path, *, capacity: int = HISTORY_CAPACITY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.capacity = capacity
        self.clock = clock
        self.parser: LineParser | None = None
        self.failure: str | None = None
        self.ended = False              # the run's end line was read
        self.changed_at = clock()       # when new bytes last arrived
        self._file: IO[bytes] | None = None
        self._identity: tuple[int, int] | None = None
        self._header = b""
        self._offset = 0
        self._partial = b""
        self._tail = b""                # the last bytes read, up to TAIL_PRINT of them
        self._problem: str | None = None
        self._runs = 0

    @property
    def exists(self) -> bool:
        return self._file is not None

    @property
    def silent_for(self) -> float:
        """Seconds since new bytes last arrived."""
        return self.clock() - self.changed_at

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def poll(self) -> list[FollowItem]:
        """Started, StepRecords, Events, the End, or Failed; [] when nothing is new."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return []                    # not there yet, or removed: a new file may come
        except OSError as error:
            return self._fail(f"cannot read ({error.strerror or error})")
        identity = (status.st_dev, status.st_ino)
        if self._file is not None and (identity != self._identity or status.st_size < self._offset
                                       or not self._unchanged()):
            self.close()                 # truncated, replaced or rewritten in place: a new run
        if self._file is None:
            if self.failure is not None and identity == self._identity and status.st_size >= self._offset:
                return []                # still the file that failed: wait until it changes
            items = self._open(identity, status.st_mode)
        elif self.failure is not None:
            return []
        else:
            items = self._read()
        self._age_from(status.st_mtime)
        return items

    def _age_from(self, modified: float) -> None:
        """A file unchanged for STILL_WRITING seconds (a writer that crashed long ago) has been silent
        since its last change, not since we began reading it: silent_for counts from its mtime."""
        age = time.time() - modified
        if age >= STILL_WRITING:
            self.changed_at = min(self.changed_at, self.clock() - age)

    def _open(self, identity: tuple[int, int], mode: int) -> list[FollowItem]:
        """Open the file if it is a regular one: a FIFO would block here, a device never end."""
        self._identity = identity
        self._offset, self._partial, self._header, self._tail = 0, b"", b"", b""
        self.parser, self.failure, self.ended = None, None, False
        if not stat.S_ISREG(mode):
            return self._fail(f"is {_kind(mode)}, not a run file")
        try:   # O_NONBLOCK: a symlink retargeted to a FIFO since the stat does not block the open
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return []
        except IsADirectoryError:
            return self._fail("is a folder, not a run file")
        except OSError as error:
            return self._fail(f"cannot read ({error.strerror or error})")
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            return self._fail(f"is {_kind(mode)}, not a run file")
        os.set_blocking(fd, True)
        self._file = os.fdopen(fd, "rb")
        return self._read()

    def _unchanged(self) -> bool:
        """The file still holds the bytes we read at its start and just before where we stopped
        (a rewrite in place, even with the same header, is a new run)."""
        if self._file is None:
            return True
        try:
            fd = self._file.fileno()
            return (os.pread(fd, len(self._header), 0) == self._header
                    and os.pread(fd, len(self._tail), self._offset - len(self._tail)) == self._tail)
        except OSError:
            return False

    def _read(self) -> list[FollowItem]:
        """Everything complete that is new, to the end of the file: a backlog streams through the
        parser (thinned as one stretch, in bounded memory) before this returns."""
        if self._file is None:
            return []
        self._problem = None
        lines = self._lines()
        items: list[FollowItem] = []
        if self.parser is None:
            header = next(lines, None)
            if header is None:
                return self._fail(self._problem) if self._problem else []
            self._header = header + b"\n"
            try:
                self.parser = LineParser(self.path, self._header, self.capacity)
            except InputError as error:
                self.failure = printable(error)
                return [Failed(self.failure)]
            items.append(replace(self.parser.started, again=self._runs > 0))
            self._runs += 1
        batch = self.parser.parse(lines)
        items.extend(batch.items)
        self.ended = self.ended or any(isinstance(item, End) for item in batch.items)
        if batch.problem:
            number, problem = batch.problem
            items.extend(self._fail(f"line {number} {problem}"))
        elif self._problem:
            items.extend(self._fail(self._problem))
        return items

    def _lines(self) -> Iterator[bytes]:
        """The complete lines read from the file until its end or POLL_BUDGET bytes, READ_BUDGET
        bytes at a time; the half-written last line is held for the next poll. A read error or an
        overlong line stops the stream and is left in self._problem."""
        assert self._file is not None
        budget = POLL_BUDGET
        while budget > 0:
            budget -= READ_BUDGET
            try:
                data = self._file.read(READ_BUDGET)
            except OSError as error:
                self._problem = f"cannot read ({error.strerror or error})"
                return
            if not data:
                return
            self.changed_at = self.clock()
            self._offset += len(data)
            self._tail = (self._tail + data)[-TAIL_PRINT:]
            buffer = self._partial + data
            cut = buffer.rfind(b"\n")
            if cut < 0:
                self._partial = buffer
                if len(buffer) > MAX_LINE:
                    self._problem = f"a line longer than {MAX_LINE} bytes; not a vgrad run"
                    return
                continue
            self._partial = buffer[cut + 1:]
            yield from buffer[:cut].split(b"\n")

    def _fail(self, reason: str) -> list[FollowItem]:
        """Failed, in one line naming the file; shown, never obeyed (printable)."""
        self.failure = printable(f"run file {self.path}: {reason}")
        return [Failed(self.failure)]


def still_growing(path: str | Path, has_end: bool, *, locked: bool = True, now: float | None = None) -> bool:
    """A run file without an end line whose writer is still at it (replay shows what is there;
    `watch` follows it): a vgrad writer (`locked`) while it holds the file's lock, where the kernel
    says (guard.writer_holds); else, a file that changed within STILL_WRITING seconds."""
    if has_end:
        return False
    holds = writer_holds(path) if locked else None
    if holds is not None:
        return holds
    try:
        modified = os.stat(path).st_mtime
    except OSError:
        return False
    return (time.time() if now is None else now) - modified < STILL_WRITING
