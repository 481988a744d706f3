"""`vgrad.Recorder`: write any training loop's per-layer gradient norms as a vgrad run file.

One JSONL line per `log`, on disk within WRITE_PAUSE_S, so `vgrad-tui watch FILE` follows it
live and a run cut short is still a valid prefix. The lines go through the run file's one
writer (record/writer.py RunWriter, as `--record`'s do), on its thread. The rules:
- Values are checked on the caller's thread (watch/values.py says what is accepted): a value
  the file cannot hold is an InputError from `log`, never a dead writer.
- One writer per file: the Recorder claims its file as `--record` does (the same lock), so a
  second writer of it, in this process or another, is refused in one line; a folder, FIFO or
  device is refused at once. A Recorder with overwrite=True on a file that an unclosed
  Recorder of this same process still writes (a notebook cell run again) replaces it: the
  old one is closed first (its end line written), with a warning, and records nothing more.
- The header and a record are each at most MAX_LINE bytes, which every reader accepts: a
  header longer than that (thousands of long non-ASCII names) is refused at Recorder(...);
  at most MAX_LAYERS (10,000) layers and as many activations, so a record always fits.
- lens=None: the header is written with the first record (the file is empty until then), and
  names the weight lens when that record has weight norms and more than half of its layers
  have no bias gradient (speed None), else the bias lens.
- Its end line comes on every way out: `close`, the end of a `with`, the interpreter's exit
  (atexit: "stopped", "interrupted" after an uncaught Ctrl+C), and SIGTERM or SIGHUP, which would
  kill the process with no atexit (shutdown.py: "interrupted", then the process dies of that
  signal as it would have). Whatever must be written before it (a watcher's held record) is
  handed to `before_close`.
- Writing never breaks the training it watches: what the writer could not write (a full disk,
  a destination that stalls; see RunWriter) is warned about on the caller's thread at the next
  `log` or `close`, and kept in `failure`. A forked child's Recorder records nothing and its
  `close` returns at once (the parent owns the file).
"""

from __future__ import annotations

import atexit
import dataclasses
import math
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from vgrad.core.errors import InputError
from vgrad.core.guard import claim_output, expand
from vgrad.core.record.events import End, Event
from vgrad.core.record.format import MAX_LINE, watched_header
from vgrad.core.record.model import ModelSpec, model_spec
from vgrad.core.record.step import NEURONS_SHOWN, StepRecord
from vgrad.core.record.writer import CAPACITY, WRITE_PAUSE_S, RunWriter, encode, plain_rows
from vgrad.core.status import EndStatus, NetState
from vgrad.core.watch import shutdown, values

__all__ = ["Recorder", "WRITE_PAUSE_S"]

QUEUED_VALUES = 1 << 21   # numbers waiting for the writer at most (about 64 MB): fewer records queue for a big model
LONGEST_NUMBER = len('"-2.2250738585072014e-308", ')   # the most bytes one entry of a series takes
STEP_FIELDS = 4 + NEURONS_SHOWN   # per layer: speed, weight_grad, update_ratio, the neurons

_HEADER_ONLY = object()   # queued by close() when no record came: the header alone
_OPEN: weakref.WeakValueDictionary[tuple[int, int], Recorder] = weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()


class Recorder:
    """A run file for one model: `log` a step's s_l per layer, `close` (or leave the `with`).

    `log` checks and converts the values on the caller's thread and hands the record to the
    writer thread, which encodes, writes and flushes it: the training loop pays for neither."""

    def __init__(self, path: str | Path, layers: Sequence[str], *, name: str | None = None,
                 overwrite: bool = False, source: str = "vgrad.Recorder", lens: str | None = None,
                 activations: Sequence[str] | None = None, activation_kinds: Sequence[str] | None = None) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise InputError(f"run file {path!r}: give a path (a str or a pathlib.Path)")
        self.path = expand(path, "run file")
        if not isinstance(overwrite, bool):
            raise InputError(f"overwrite={overwrite!r}: give True or False")
        self.model: ModelSpec = model_spec(name or self.path.stem or "model", _listed(layers), lens=lens,
                                           activations=None if activations is None else _listed(activations),
                                           activation_kinds=None if activation_kinds is None
                                           else _listed(activation_kinds))
        self._source = source
        self._lens_given = lens is not None
        _check_fits(self.path, self.model, source)
        self.diverged = False
        self._started = time.perf_counter()
        self._told: set[str] = set()
        self._lock = threading.RLock()   # close() may be entered again by a signal's handler (shutdown.py)
        self._closed = False
        self._before_close: list[Callable[[], None]] = []
        self._replaced = False
        if overwrite:
            _close_earlier(self.path)
        output = claim_output(self.path, "run file", force=overwrite, force_word="overwrite=True")
        per_record = max(1, self.model.hidden * STEP_FIELDS + 2 * len(self.model.activations))
        self._writer = RunWriter(output, self._header(self.model) if self._lens_given else None,
                                 rows=self._rows, capacity=max(16, min(CAPACITY, QUEUED_VALUES // per_record)))
        self._header_written = self._lens_given
        self._key = _identity(self.path)
        if self._key is not None:
            with _OPEN_LOCK:
                _OPEN[self._key] = self
        atexit.register(self._close_at_exit)   # a script that never closes still gets every line
        shutdown.opened(self, lambda: self.close(EndStatus.INTERRUPTED))

    @property
    def layers(self) -> tuple[str, ...]:
        return self.model.layers

    @property
    def closed(self) -> bool:
        """Closed by `close`, or by a newer Recorder of this process that replaced its file: a
        watcher holding it can let go of its hooks."""
        return self._closed

    @property
    def failure(self) -> str | None:
        """Why lines were not written (a full disk, a stalled destination, …), else None."""
        failure = self._writer.failure
        return None if failure is None else f"vgrad: run file {self.path}: {failure}"

    def log(self, step: object, *, speed: object, weight_grad: object = None, neurons: object = None,
            loss: object = None, accuracy: object = None, update_ratio: object = None, saturated: object = None,
            dead: object = None) -> None:
        """Record step `step`: per layer s_l (None where a layer has no bias gradient), and
        optionally ‖∂L/∂W‖ per layer, the first ∂L/∂b entries per layer, the loss, the accuracy
        (a fraction), ‖Δθ‖/‖θ‖ per layer, and per activation the saturated and dead shares.
        A value the file cannot hold is an InputError here (watch/values.py)."""
        record = self._record(step, speed, weight_grad, neurons, loss, accuracy, update_ratio, saturated, dead)
        if self._usable(f"step {record.step}") and not self._writer.put(record) and self._closed:
            self._usable(f"step {record.step}")   # closed by another thread meanwhile
        self._tell()

    def log_later(self, make: Callable[[], tuple[Any, ...] | dict[str, Any]]) -> None:
        """Queue a record whose values the writer thread gets by calling `make()` (the arguments
        of `log` as a tuple in its order, or a dict by name) and checks as `log` does: a caller
        whose values are known to be well formed (`vgrad.watch`) hands that work to the writer
        thread too. A record that fails there is left out and warned about at the next call."""
        if self._usable("a record") and not self._writer.put(make) and self._closed:
            self._usable("a record")
        self._tell()

    def _record(self, step: object, speed: object, weight_grad: object = None, neurons: object = None,
                loss: object = None, accuracy: object = None, update_ratio: object = None, saturated: object = None,
                dead: object = None) -> StepRecord:
        count, activations = self.model.hidden, len(self.model.activations)
        return StepRecord(
            net=0, epoch=0, step=values.step_number(step), speed=values.series(speed, "speed", count),
            neurons=values.heads(neurons, count), cost=values.optional(loss, "loss"),
            accuracy=values.optional(accuracy, "accuracy", values.fraction),
            weight_grad=None if weight_grad is None else values.series(weight_grad, "weight_grad", count),
            update_ratio=None if update_ratio is None else values.series(update_ratio, "update_ratio", count),
            saturated=None if saturated is None else values.series(
                saturated, "saturated", activations, "activations", values.fraction),
            dead=None if dead is None else values.series(dead, "dead", activations, "activations", values.fraction))

    def before_close(self, write: Callable[[], None]) -> None:
        """Call `write()` first when the file closes, however it closes (a record it holds)."""
        self._before_close.append(write)

    def close(self, status: str = EndStatus.COMPLETE) -> None:
        """Write what is queued, the end line, and close the file (again: nothing). Returns
        within the writer's CLOSE_S; what was not written is warned about and kept in `failure`."""
        with self._lock:
            if self._closed:
                return
            for write in self._before_close:
                write()
            self._closed = True
        atexit.unregister(self._close_at_exit)
        shutdown.closed(self)
        if not self._writer.forked:
            if not self._header_written:
                self._writer.put(_HEADER_ONLY)
            self._writer.close(End(str(status), time.perf_counter() - self._started))
        with _OPEN_LOCK:
            if self._key is not None and _OPEN.get(self._key) is self:
                del _OPEN[self._key]
        self._tell()

    def _close_at_exit(self) -> None:
        """At the interpreter's exit: "interrupted" after an uncaught Ctrl+C, else "stopped"."""
        interrupted = isinstance(getattr(sys, "last_value", None), KeyboardInterrupt)
        self.close(EndStatus.INTERRUPTED if interrupted else EndStatus.STOPPED)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        if error is not None and not isinstance(error, KeyboardInterrupt) and not self._closed:
            self._writer.put(Event(0, str(NetState.ERROR), message=f"{type(error).__name__}: {error}"))
        self.close(EndStatus.COMPLETE if error is None
                   else EndStatus.INTERRUPTED if isinstance(error, KeyboardInterrupt) else EndStatus.STOPPED)

    def _usable(self, what: str) -> bool:
        """Whether a record can still be queued; if not, say why once."""
        if self._writer.forked:
            self._warn_once(f"vgrad: run file {self.path}: this Recorder belongs to the process that made it; "
                            "a forked child records nothing")
        elif self._replaced:
            self._warn_once(f"vgrad: run file {self.path}: a newer Recorder replaced this one (overwrite=True); "
                            f"{what} and later ones are not recorded")
        elif self._closed:
            self._warn_once(f"vgrad: run file {self.path}: the Recorder is closed; {what} and later ones are "
                            "not recorded")
        else:
            return True
        return False

    def _tell(self) -> None:
        """Warn, on the caller's thread, about what the writer could not write (once per reason)."""
        if not self._writer.reasons:   # read without the lock: the common case costs nothing
            return
        for reason in self._writer.why():
            self._warn_once(f"vgrad: run file {self.path}: {reason}")

    def _warn_once(self, message: str, stacklevel: int = 4) -> None:
        if message not in self._told:
            self._told.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=stacklevel)

    def _header(self, model: ModelSpec) -> dict[str, Any]:
        return watched_header(model, self._source)

    def _rows(self, item: object) -> Iterable[dict[str, Any]]:
        """On the writer thread: a queued item as lines (a record made now if queued by
        log_later, the header before the first record when the lens follows it, the
        divergence event after the first non-finite record)."""
        if callable(item):
            made = item()
            item = self._record(**made) if isinstance(made, dict) else self._record(*made)
        rows = []
        if not self._header_written:
            record = item if isinstance(item, StepRecord) else None
            rows.append(self._header(dataclasses.replace(self.model, lens=_lens(record))))
            self._header_written = True
        if isinstance(item, StepRecord):
            rows.append(item.to_json())
            if not self.diverged and not item.is_finite:
                self.diverged = True
                rows.append(self._diverged(item))
        elif item is not _HEADER_ONLY:
            rows.extend(plain_rows(item))
        return rows

    def _diverged(self, record: StepRecord) -> dict[str, Any]:
        """The event that marks the run diverged, naming the first layer with a non-finite norm."""
        bad = next((name for series in (record.speed, record.weight_grad or ())
                    for name, value in zip(self.layers, series)
                    if value is not None and not math.isfinite(value)), None)
        where = f" in layer {bad}" if bad else ""
        return Event(0, str(NetState.DIVERGED), step=record.step,
                     message=f"non-finite gradient{where} at step {record.step}").to_json()


def _listed(names: object) -> object:
    """A caller's iterable of names as a list (anything else is left for model_spec to refuse)."""
    if isinstance(names, (str, list, tuple)) or not hasattr(names, "__iter__"):
        return names
    items: Any = names
    return list(items)


def _lens(record: StepRecord | None) -> str:
    """The lens a Recorder made with lens=None opens on, from its first record."""
    if record is None or record.weight_grad is None:
        return "bias"
    return "weight" if 2 * sum(v is None for v in record.speed) > len(record.speed) else "bias"


def _check_fits(path: Path, model: ModelSpec, source: str) -> None:
    """Refuse a model whose header or longest record would be longer than a reader's line."""
    size = len(encode(watched_header(dataclasses.replace(model, lens="weight"), source)))
    if size > MAX_LINE:
        raise InputError(f"run file {path}: the header naming these {model.hidden} layers would be {size} bytes, "
                         f"more than the {MAX_LINE} a reader accepts in one line; use shorter names or fewer layers")
    longest = (model.hidden * STEP_FIELDS + 2 * len(model.activations)) * LONGEST_NUMBER + 1000
    if longest > MAX_LINE:
        raise InputError(f"run file {path}: a record of {model.hidden} layers could take {longest} bytes, more than "
                         f"the {MAX_LINE} a reader accepts in one line; watch fewer layers")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _close_earlier(path: Path) -> None:
    """Close the unclosed Recorder of this process that writes `path`, if any (a cell run again)."""
    key = _identity(path)
    with _OPEN_LOCK:
        earlier = None if key is None else _OPEN.get(key)
    if earlier is None or earlier._closed:
        return
    warnings.warn(f"vgrad: run file {path}: closing the earlier Recorder that still writes it "
                  "(overwrite=True); it records nothing more", RuntimeWarning, stacklevel=3)
    earlier._replaced = True
    earlier.close(EndStatus.STOPPED)
