"""Read a JSONL run file back for replay and plots; a damaged tail becomes a warning."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.guard import read_regular
from vgrad.core.record.format import EVENT_KINDS, READABLE_FORMATS, RESTART
from vgrad.core.record.model import ModelSpec, model_spec
from vgrad.core.record.step import StepRecord
from vgrad.core.run.config import MAX_EPOCHS, Config, config_from_dict
from vgrad.core.run.spec import NetSpec, parse_net

MAX_STEP = 2**53                    # parameter updates: counts beyond this are not exact as floats
WATCHED_CONFIG = Config(epochs=0)   # a watched model's file has no config: epochs unknown


@dataclass
class Recording:
    """A run file read back: header facts, steps in file order, events, and any warning."""

    path: Path
    header: dict
    specs: tuple[NetSpec | ModelSpec, ...]
    config: Config
    steps: list[StepRecord] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    end: dict | None = None
    warning: str | None = None
    restarts: int = 0                 # restart events read; only each net's newest run is kept

    @property
    def data_name(self) -> str:
        return str(self.header.get("data", {}).get("name", "?"))

    def steps_of(self, net: int) -> list[StepRecord]:
        return [step for step in self.steps if step.net == net]


def read_run(path: str | Path) -> Recording:
    """Read and validate a run file; a damaged tail becomes a warning, a bad header an InputError."""
    path = Path(path)
    raw = read_regular(path, "run file")  # never a FIFO or /dev/zero: those hang or never end
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


def _json(line: str):
    """One line's JSON value, or None if it is not JSON vgrad can hold (a 5000-digit number and
    100 000 nested brackets raise ValueError and RecursionError, not JSONDecodeError)."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _parse_header(path: Path, line: str) -> dict:
    header = _json(line)
    if not isinstance(header, dict) or header.get("type") != "run":
        raise InputError(f"run file {path}: not a vgrad run (line 1 is not a {{\"type\": \"run\"}} header)")
    if header.get("format") not in READABLE_FORMATS:
        raise InputError(f"run file {path}: format {header.get('format')!r} is not supported "
                         f"(this vgrad reads formats {', '.join(map(str, READABLE_FORMATS))})")
    return header


def _recording_from_header(path: Path, header: dict) -> Recording:
    try:
        nets = header["nets"]
        specs = tuple(_net_spec(net) for net in nets)
        if not specs or [net["id"] for net in nets] != list(range(len(specs))):
            raise ValueError("net ids must be 0, 1, …")
        config = config_from_dict(header["config"]).checked() if "config" in header else WATCHED_CONFIG
        if not isinstance(header.get("data", {}), dict):
            raise ValueError(f"data is {type(header['data']).__name__}, not an object")
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        reason = error.args[0] if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
        raise InputError(f"run file {path}: corrupt run header ({reason})") from None
    return Recording(path=path, header=header, specs=specs, config=config)


def _net_spec(net: dict) -> NetSpec | ModelSpec:
    """A built-in net (its "spec") or a watched model (its "name" and "layers")."""
    if not isinstance(net, dict):
        raise ValueError(f"a net is {type(net).__name__}, not an object")
    if "spec" in net:
        return parse_net(net["spec"])
    return model_spec(net["name"], net["layers"])


def _take_line(recording: Recording, line: str) -> str | None:
    """Add one line to the recording; return what is wrong with it, or None."""
    row = _json(line)
    if row is None:
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
        last_epoch = recording.config.n_epochs if "config" in recording.header else MAX_EPOCHS
        if not (0 <= step.epoch <= last_epoch and 0 <= step.step <= MAX_STEP):
            return f"has epoch {step.epoch}, step {step.step} (outside 0…{last_epoch}, 0…{MAX_STEP})"
        if len(step.speed) != recording.specs[step.net].hidden:
            return f"has {len(step.speed)} speeds for a net with {recording.specs[step.net].hidden} hidden layers"
        recording.steps.append(step)
    elif kind == "event":
        if row.get("kind") not in EVENT_KINDS or not isinstance(row.get("net"), int):
            return "is not a valid event"
        if row["kind"] == RESTART:
            _restart(recording, row["net"])
        recording.events.append(row)
    elif kind == "end":
        recording.end = row
    else:
        return f"has unknown type {kind!r}"
    return None


def _restart(recording: Recording, net: int) -> None:
    """Net `net` started again: play its newest run (the file keeps every run)."""
    recording.steps = [step for step in recording.steps if step.net != net]
    recording.events = [event for event in recording.events if event["net"] != net]
    recording.restarts += 1
