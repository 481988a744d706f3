"""`vgrad.Recorder`: write any training loop's per-layer gradient norms as a vgrad run file.

One JSONL line per `log`, flushed within WRITE_PAUSE_S, so `vgrad-tui watch FILE` follows it
live and a run cut short is still a valid prefix. Values are anything numpy can turn into a float
(Python numbers, numpy or JAX scalars, CPU tensors). Lines are encoded and written on a
writer thread. Writing never breaks the training it watches: a failed write (a full disk)
warns once and later records are dropped.
"""

from __future__ import annotations

import atexit
import json
import math
import queue
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.record.format import watched_header
from vgrad.core.record.model import ModelSpec, model_spec
from vgrad.core.record.step import NEURONS_SHOWN, StepRecord
from vgrad.core.status import EndStatus, NetState

WRITE_PAUSE_S = 0.1   # the writer batches what arrives within this: a record is on disk this much later at most


class Recorder:
    """A run file for one model: `log` a step's s_l per layer, `close` (or leave the `with`).

    `log` checks and converts the values on the caller's thread and hands the record to a
    writer thread, which encodes, writes and flushes it: the training loop pays for neither."""

    def __init__(self, path: str | Path, layers: Sequence[str], *, name: str | None = None,
                 overwrite: bool = False, source: str = "vgrad.Recorder", lens: str | None = None,
                 activations: Sequence[str] | None = None, activation_kinds: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.model: ModelSpec = model_spec(name or self.path.stem, layers if isinstance(layers, str) else list(layers))
        self.diverged = False
        self.failure: str | None = None
        self._started = time.perf_counter()
        try:
            self._file = open(self.path, "w" if overwrite else "x", encoding="utf-8")
        except FileExistsError:
            raise InputError(f"run file {self.path}: already exists; pass overwrite=True to replace it") from None
        except OSError as error:
            raise InputError(f"run file {self.path}: cannot write ({error.strerror or error})") from error
        header = watched_header(self.model, source)
        if lens is not None:
            header["nets"][0]["lens"] = lens
        if activations is not None:
            header["nets"][0]["activations"] = list(activations)
            header["nets"][0]["activation_kinds"] = list(activation_kinds or ())
        self.activations = tuple(activations or ())
        self._write(header)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._writer = threading.Thread(target=self._drain, name="vgrad-recorder", daemon=True)
        self._writer.start()
        atexit.register(self.close, EndStatus.STOPPED)   # a script that never closes still gets every line

    @property
    def layers(self) -> tuple[str, ...]:
        return self.model.layers

    def log(self, step: int, *, speed, weight_grad=None, neurons=None, loss=None, accuracy=None,
            update_ratio=None, saturated=None, dead=None) -> None:
        """Record step `step`: per layer s_l (None where a layer has no bias gradient), and
        optionally ‖∂L/∂W‖ per layer, the first ∂L/∂b entries per layer, the loss, the accuracy,
        ‖Δθ‖/‖θ‖ per layer, and per activation the fractions of saturated and dead units."""
        record = self._record(step, speed, weight_grad, neurons, loss, accuracy, update_ratio, saturated, dead)
        if not self._closed:
            self._queue.put(record)

    def log_later(self, make: Callable[[], tuple]) -> None:
        """Queue a record whose values the writer thread gets by calling `make()` (the arguments
        of `log` as a tuple): a caller whose values are known to be well formed (`vgrad.watch`)
        hands the conversion to the writer thread too. The tuple may add update_ratio, saturated, dead."""
        if not self._closed:
            self._queue.put(make)

    def _record(self, step, speed, weight_grad, neurons, loss, accuracy, update_ratio=None, saturated=None,
                dead=None) -> StepRecord:
        count = self.model.hidden
        units = len(self.activations)
        return StepRecord(
            net=0, epoch=0, step=int(step), speed=_per_layer("speed", speed, count),
            neurons=_neurons(neurons, count), cost=_scalar(loss),
            accuracy=_scalar(accuracy),
            weight_grad=None if weight_grad is None else _per_layer("weight_grad", weight_grad, count),
            update_ratio=None if update_ratio is None else _per_layer("update_ratio", update_ratio, count),
            saturated=None if saturated is None else _per_layer("saturated", saturated, units),
            dead=None if dead is None else _per_layer("dead", dead, units))

    def close(self, status: str = EndStatus.COMPLETE) -> None:
        """Write what is queued, the end line, and close the file (again: nothing)."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._queue.put({"type": "end", "status": status, "elapsed": round(time.perf_counter() - self._started, 3)})
        self._queue.put(None)
        self._writer.join()
        try:
            self._file.close()
        except OSError as error:
            self._fail(error)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is not None and not isinstance(error, KeyboardInterrupt):
            self._queue.put({"type": "event", "net": 0, "kind": NetState.ERROR, "message": f"{kind.__name__}: {error}"})
        self.close(EndStatus.COMPLETE if error is None else EndStatus.STOPPED)

    def _drain(self) -> None:
        """The writer thread: each queued record or row as one line, in order; it wakes at most
        every WRITE_PAUSE_S and then writes all that is queued, so a fast loop does not pay a
        thread switch per record."""
        while True:
            items = [self._queue.get()]
            if items[0] is not None:
                time.sleep(WRITE_PAUSE_S)
            while not self._queue.empty():
                items.append(self._queue.get())
            for item in items:
                if item is None:
                    return
                self._put(item)

    def _put(self, item) -> None:
        """Write one queued item: a record (made now if queued by log_later) and its divergence
        event, or a row; flushed."""
        if callable(item):
            item = self._record(*item())
        if isinstance(item, StepRecord):
            self._write(item.to_json())
            if not self.diverged and not item.is_finite:
                self.diverged = True
                self._write(self._diverged(item))
        else:
            self._write(item)


    def _diverged(self, record: StepRecord) -> dict:
        """The event that marks the run diverged, naming the first layer with a non-finite norm."""
        bad = next((name for values in (record.speed, record.weight_grad or ())
                    for name, value in zip(self.layers, values)
                    if value is not None and not math.isfinite(value)), None)
        where = f" in layer {bad}" if bad else ""
        return {"type": "event", "net": 0, "kind": NetState.DIVERGED, "step": record.step,
                "message": f"non-finite gradient{where} at step {record.step}"}

    def _write(self, row: dict) -> None:
        if self.failure is not None:
            return
        try:
            self._file.write(json.dumps(row) + "\n")
            self._file.flush()
        except OSError as error:
            self._fail(error)

    def _fail(self, error: OSError) -> None:
        """Warn once; the training goes on and later records are dropped."""
        if self.failure is None:
            self.failure = f"vgrad: writing {self.path} failed ({error.strerror or error}); training goes on unrecorded"
            warnings.warn(self.failure, RuntimeWarning, stacklevel=2)


def _scalar(value) -> float | None:
    if value is None or type(value) is float:
        return value
    import numpy as np

    return float(np.asarray(value, dtype=np.float64))


def _per_layer(what: str, values, count: int) -> tuple[float | None, ...]:
    values = list(values)
    if len(values) != count:
        raise ValueError(f"{what}: {len(values)} values for {count} layers")
    return tuple(_scalar(value) for value in values)


def _neurons(neurons, count: int) -> tuple[tuple[float, ...], ...]:
    """The first NEURONS_SHOWN entries of each layer's ∂L/∂b (empty where not given)."""
    if neurons is None:
        return ((),) * count
    import numpy as np

    layers = list(neurons)
    if len(layers) != count:
        raise ValueError(f"neurons: {len(layers)} layers given for {count} layers")
    return tuple(() if layer is None else
                 tuple(layer[:NEURONS_SHOWN]) if type(layer) is list and all(type(v) is float for v in layer) else
                 tuple(float(v) for v in np.asarray(layer, dtype=np.float64).ravel()[:NEURONS_SHOWN])
                 for layer in layers)
