"""Writers of a run as it goes: the JSONL run file and a flat CSV, flushed line by line.

Each writes to an Output claimed before the run (guard.claim_output: never an existing file
unless --force, never a FIFO, device or an input, locked against a second writer)."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vgrad.core.guard import Output, claim_output
from vgrad.core.record.step import StepRecord
from vgrad.core.spec import NetSpec


class _LineSink:
    """Common part of the writers: a lock, a flushed file, and a full disk that never kills training."""

    def __init__(self, output: Output | str | Path):
        if not isinstance(output, Output):
            output = claim_output(output, "output")
        self.path = output.path
        self.failure: str | None = None
        self._lock = threading.Lock()
        self._file = output.text()

    def _guarded(self, write: Callable[[], object]) -> None:
        with self._lock:
            if self.failure is not None or self._file.closed:
                return
            try:
                write()
                self._file.flush()
            except OSError as error:
                self.failure = f"writing {self.path} failed: {error.strerror or error}; training goes on"

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                try:
                    self._file.close()
                except OSError as error:
                    self.failure = self.failure or f"closing {self.path} failed: {error}"


class JsonlRecorder(_LineSink):
    """Writes a run file line by line, flushed, from any worker thread."""

    def __init__(self, output: Output | str | Path, header: dict[str, Any]):
        super().__init__(output)
        self._write_row(header)

    def _write_row(self, row: dict[str, Any]) -> None:
        self._guarded(lambda: self._file.write(json.dumps(row) + "\n"))

    def step(self, record: StepRecord) -> None:
        self._write_row(record.to_json())

    def event(self, net: int, kind: str, **info: Any) -> None:
        self._write_row({"type": "event", "net": net, "kind": kind, **info})

    def end(self, status: str, elapsed: float) -> None:
        self._write_row({"type": "end", "status": status, "elapsed": round(elapsed, 3)})
        self.close()


class CsvRecorder(_LineSink):
    """The same steps as a flat table: one row per record, one column per hidden layer."""

    def __init__(self, output: Output | str | Path, specs: tuple[NetSpec, ...]):
        super().__init__(output)
        self.specs = specs
        depth = max(spec.hidden for spec in specs)
        self._writer = csv.writer(self._file)
        columns = ["net", "spec", "epoch", "step", "cost", "accuracy"]
        columns += [f"speed_{layer + 1}" for layer in range(depth)]
        self._depth = depth
        self._guarded(lambda: self._writer.writerow(columns))

    def step(self, record: StepRecord) -> None:
        speeds = [repr(v) for v in record.speed] + [""] * (self._depth - len(record.speed))
        accuracy = "" if record.accuracy is None else repr(record.accuracy)
        row = [record.net, self.specs[record.net].label, record.epoch, record.step, repr(record.cost),
               accuracy, *speeds]
        self._guarded(lambda: self._writer.writerow(row))

    def event(self, net: int, kind: str, **info: Any) -> None:
        pass

    def end(self, status: str, elapsed: float) -> None:
        self.close()
