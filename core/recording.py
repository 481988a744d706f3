"""The JSONL run file: write it as a run goes, read it back for replay and plots.

Line 1 {"type": "run", "format": 1, "vgrad", "config", "nets": [{"id", "spec", ...}],
"data": {"name", sizes...}, "seed"}; then {"type": "step", ...} lines (StepRecord.to_json),
{"type": "event", "net", "kind": "diverged"|"error"|"done", ...} lines, and last
{"type": "end", "status", "elapsed"}. Every line is flushed when written, so a run
cut short is still a valid prefix; the reader plays such a prefix with a warning.
"""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from vgrad.core import __version__
from vgrad.core.config import Config, config_from_dict
from vgrad.core.errors import InputError
from vgrad.core.records import StepRecord
from vgrad.core.spec import NetSpec, parse_net

FORMAT_VERSION = 1
EVENT_KINDS = ("diverged", "error", "done")


def run_header(specs: tuple[NetSpec, ...], config: Config, data_name: str, data_sizes: dict) -> dict:
    """The first line of a run file."""
    return {
        "type": "run", "format": FORMAT_VERSION, "vgrad": __version__,
        "config": config.as_dict(),
        "nets": [{"id": i, "spec": spec.label, "sizes": list(spec.sizes), "activation": spec.activation,
                  "init": spec.init, "residual": spec.residual, "cost": spec.cost}
                 for i, spec in enumerate(specs)],
        "data": {"name": data_name, **data_sizes},
        "seed": config.seed,
    }


def check_writable(path: str | Path, what: str) -> Path:
    """Refuse an output path that cannot be written, before any work starts."""
    path = Path(path)
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as error:
        raise InputError(f"{what} {path}: cannot write ({error.strerror or error})") from error
    if not existed:
        path.unlink()
    return path


class _LineSink:
    """Common part of the writers: a lock, a flushed file, and a full disk that never kills training."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.failure: str | None = None
        self._lock = threading.Lock()
        self._file = open(self.path, "w", newline="")

    def _guarded(self, write) -> None:
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

    def __init__(self, path: str | Path, header: dict):
        super().__init__(path)
        self._write_row(header)

    def _write_row(self, row: dict) -> None:
        self._guarded(lambda: self._file.write(json.dumps(row) + "\n"))

    def step(self, record: StepRecord) -> None:
        self._write_row(record.to_json())

    def event(self, net: int, kind: str, **info) -> None:
        self._write_row({"type": "event", "net": net, "kind": kind, **info})

    def end(self, status: str, elapsed: float) -> None:
        self._write_row({"type": "end", "status": status, "elapsed": round(elapsed, 3)})
        self.close()


class CsvRecorder(_LineSink):
    """The same steps as a flat table: one row per record, one column per hidden layer."""

    def __init__(self, path: str | Path, specs: tuple[NetSpec, ...]):
        super().__init__(path)
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

    def event(self, net: int, kind: str, **info) -> None:
        pass

    def end(self, status: str, elapsed: float) -> None:
        self.close()


@dataclass
class Recording:
    """A run file read back: header facts, steps in file order, events, and any warning."""

    path: Path
    header: dict
    specs: tuple[NetSpec, ...]
    config: Config
    steps: list[StepRecord] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    end: dict | None = None
    warning: str | None = None

    @property
    def data_name(self) -> str:
        return str(self.header.get("data", {}).get("name", "?"))

    def steps_of(self, net: int) -> list[StepRecord]:
        return [step for step in self.steps if step.net == net]


def read_run(path: str | Path) -> Recording:
    """Read and validate a run file; a damaged tail becomes a warning, a bad header an InputError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"run file {path}: no such file") from None
    except OSError as error:
        raise InputError(f"run file {path}: cannot read ({error.strerror or error})") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"run file {path}: not a vgrad run (not UTF-8 text)") from None
    lines = text.split("\n")
    header = _parse_header(path, lines[0])
    recording = _recording_from_header(path, header)
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        problem = _take_line(recording, line)
        if problem:
            recording.warning = (f"run file {path}: line {number} {problem}; "
                                 f"playing the {len(recording.steps)} steps before it")
            return recording
    if recording.end is None:
        recording.warning = (f"run file {path}: the run was cut short (no end line); "
                             f"playing its {len(recording.steps)} recorded steps")
    return recording


def _parse_header(path: Path, line: str) -> dict:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("type") != "run":
        raise InputError(f"run file {path}: not a vgrad run (line 1 is not a {{\"type\": \"run\"}} header)")
    if header.get("format") != FORMAT_VERSION:
        raise InputError(f"run file {path}: format {header.get('format')!r} is not supported "
                         f"(this vgrad reads format {FORMAT_VERSION})")
    return header


def _recording_from_header(path: Path, header: dict) -> Recording:
    try:
        nets = header["nets"]
        specs = tuple(parse_net(net["spec"]) for net in nets)
        if not specs or [net["id"] for net in nets] != list(range(len(specs))):
            raise ValueError("net ids must be 0, 1, …")
        config = config_from_dict(header["config"]).checked()
    except (KeyError, TypeError, ValueError) as error:
        reason = error.args[0] if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
        raise InputError(f"run file {path}: corrupt run header ({reason})") from None
    return Recording(path=path, header=header, specs=specs, config=config)


def _take_line(recording: Recording, line: str) -> str | None:
    """Add one line to the recording; return what is wrong with it, or None."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return "is not complete JSON"
    if not isinstance(row, dict):
        return "is not a JSON object"
    kind = row.get("type")
    if kind == "step":
        try:
            step = StepRecord.from_json(row)
        except (KeyError, TypeError, ValueError) as error:
            return f"is not a valid step ({type(error).__name__}: {error})"
        if not 0 <= step.net < len(recording.specs):
            return f"names net {step.net}, which the header does not have"
        if len(step.speed) != recording.specs[step.net].hidden:
            return f"has {len(step.speed)} speeds for a net with {recording.specs[step.net].hidden} hidden layers"
        recording.steps.append(step)
    elif kind == "event":
        if row.get("kind") not in EVENT_KINDS or not isinstance(row.get("net"), int):
            return "is not a valid event"
        recording.events.append(row)
    elif kind == "end":
        recording.end = row
    else:
        return f"has unknown type {kind!r}"
    return None
