"""Read a JSONL run file as a stream: bounded memory however long the run, a damaged tail a warning.

Lines go through a LineParser, which `read_run` (replay, plot) and the Follower (watch) share.
Long stretches of step records are thinned per net with the board's own rule (keep every
stride-th record, double the stride when full; the newest is always kept): a thinned record
is only checked for its net and never decoded, so a million-step file opens in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vgrad.core.config import MAX_EPOCHS, Config, config_from_dict
from vgrad.core.errors import InputError
from vgrad.core.guard import open_regular
from vgrad.core.record.format import EVENT_KINDS, READABLE_FORMATS, RESTART
from vgrad.core.record.model import ModelSpec, model_spec
from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import History
from vgrad.core.spec import NetSpec, parse_net

MAX_STEP = 2**53                    # parameter updates: counts beyond this are not exact as floats
WATCHED_CONFIG = Config(epochs=0)   # a watched model's file has no config: epochs unknown
READ_CAPACITY = 4096                # records kept per net when a file is read whole
MAX_LINE = 1 << 20                  # a line longer than 1 MiB is not a vgrad record
STEP_PREFIX = b'{"type": "step", "net": '   # how vgrad's writers start a step line


@dataclass
class Recording:
    """A run file read back: header facts, steps in file order (thinned), events, and any warning."""

    path: Path
    header: dict[str, Any]
    specs: tuple[NetSpec | ModelSpec, ...]
    config: Config
    steps: list[StepRecord] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    end: dict[str, Any] | None = None
    warning: str | None = None
    restarts: int = 0                 # restart events read; only each net's newest run is kept
    records: int = 0                  # step records in the file (before thinning)

    @property
    def data_name(self) -> str:
        return str(self.header.get("data", {}).get("name", "?"))

    def steps_of(self, net: int) -> list[StepRecord]:
        return [step for step in self.steps if step.net == net]

    def take(self, item: StepRecord | dict[str, Any]) -> None:
        """Add one parsed item (a step, an event or the end line)."""
        if isinstance(item, StepRecord):
            self.steps.append(item)
        elif item["type"] == "end":
            self.end = item
        else:
            if item["kind"] == RESTART:
                net = item["net"]
                self.steps = [step for step in self.steps if step.net != net]
                self.events = [event for event in self.events if event["net"] != net]
                self.restarts += 1
            self.events.append(item)


@dataclass
class Batch:
    """What a run of lines held: items in file order, and the first bad line (number, reason)."""

    items: list[StepRecord | dict[str, Any]] = field(default_factory=list)
    records: int = 0                  # step lines read, thinned or not
    problem: tuple[int, str] | None = None


class LineParser:
    """Parses the lines after a header; thins each batch's step records to `capacity` per net."""

    def __init__(self, path: Path, header_line: bytes | str, capacity: int = READ_CAPACITY) -> None:
        self.path = path
        self.header = parse_header(path, header_line)
        self.specs, self.config = specs_of(path, self.header)
        self.capacity = capacity
        self.line_number = 1

    def parse(self, lines: Iterable[bytes]) -> Batch:
        """Lines (complete, without their newline, any iterable) that follow the ones already
        parsed; only the kept ones are held, so a file streams through in bounded memory."""
        batch = Batch()
        kept: dict[int, History[tuple[int, bytes]]] = {}
        newest: dict[int, tuple[int, bytes]] = {}
        others: list[tuple[int, bytes]] = []
        parsed: list[tuple[int, StepRecord | dict[str, Any]]] = []
        count = 0
        for index, raw in enumerate(lines):
            count += 1
            net = _step_net(raw)
            if net is not None and 0 <= net < len(self.specs):
                entry = (index, raw)
                kept.setdefault(net, History(self.capacity)).add(entry)
                newest[net] = entry
                batch.records += 1
            elif raw.strip():
                others.append((index, raw))
        entries = sorted([*others, *(e for net, h in kept.items() for e in h.view(newest[net]))])
        for index, raw in entries:
            item = self.parse_line(raw)
            if isinstance(item, str):
                batch.problem = (self.line_number + 1 + index, item)
                parsed = [(at, kept_item) for at, kept_item in parsed if at < index]
                break
            parsed.append((index, item))
        batch.items = [item for _, item in parsed]
        self.line_number += count
        return batch

    def parse_line(self, raw: bytes) -> StepRecord | dict[str, Any] | str:
        """One line as a StepRecord, an event or end dict, or the reason it is not one."""
        try:
            row = json.loads(raw)
        except (ValueError, RecursionError):  # also a 5000-digit number, 100 000 nested brackets
            return "is not complete JSON"
        if not isinstance(row, dict):
            return "is not a JSON object"
        kind = row.get("type")
        if kind == "step":
            try:
                step = StepRecord.from_json(row)
            except (KeyError, TypeError, ValueError, OverflowError) as error:
                return f"is not a valid step ({type(error).__name__}: {error})"
            if not 0 <= step.net < len(self.specs):
                return f"names net {step.net}, which the header does not have"
            last_epoch = self.config.n_epochs if self.config is not WATCHED_CONFIG else MAX_EPOCHS
            if not (0 <= step.epoch <= last_epoch and 0 <= step.step <= MAX_STEP):
                return f"has epoch {step.epoch}, step {step.step} (outside 0…{last_epoch}, 0…{MAX_STEP})"
            if len(step.speed) != self.specs[step.net].hidden:
                return f"has {len(step.speed)} speeds for a net with {self.specs[step.net].hidden} layers"
            return step
        if kind == "event":
            if row.get("kind") not in EVENT_KINDS or not isinstance(row.get("net"), int) \
                    or not 0 <= row["net"] < len(self.specs):
                return "is not a valid event"
            return row
        if kind == "end":
            return row
        return f"has unknown type {kind!r}"


def _step_net(raw: bytes) -> int | None:
    """The net of a step line as vgrad writes it (None for anything else: parsed in full)."""
    if not raw.startswith(STEP_PREFIX):
        return None
    end = raw.find(b",", len(STEP_PREFIX), len(STEP_PREFIX) + 8)
    digits = raw[len(STEP_PREFIX):end]
    return int(digits) if end > 0 and digits.isdigit() else None


def read_run(path: str | Path, capacity: int = READ_CAPACITY) -> Recording:
    """Read and validate a run file, streaming (at most `capacity` records kept per net); a
    damaged tail becomes a warning, a bad header an InputError."""
    path = Path(path)
    try:
        with open_regular(path, "run file") as file:  # never a FIFO or /dev/zero: they hang or never end
            parser = LineParser(path, file.readline(MAX_LINE), capacity)
            recording = Recording(path=path, header=parser.header, specs=parser.specs, config=parser.config)
            batch = parser.parse(_lines(file))
    except FileNotFoundError:
        raise InputError(f"run file {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"run file {path}: is a directory") from None
    except OSError as error:
        raise InputError(f"run file {path}: cannot read ({error.strerror or error})") from error
    for item in batch.items:
        recording.take(item)
    recording.records = batch.records
    if batch.problem:
        number, problem = batch.problem
        recording.warning = (f"run file {path}: line {number} {problem}; "
                             f"playing the {len(recording.steps)} steps before it")
    elif recording.end is None:
        recording.warning = (f"run file {path}: the run was cut short (no end line); "
                             f"playing its {len(recording.steps)} recorded steps")
    return recording


def _lines(file: IO[bytes]) -> Iterator[bytes]:
    """Every line after the header, without its newline, streamed; longer than MAX_LINE, in pieces
    (which fail to parse). A last line without a newline stays (and fails if cut short)."""
    for raw in iter(lambda: file.readline(MAX_LINE), b""):
        yield raw.rstrip(b"\n")


def parse_header(path: Path, line: bytes | str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except (ValueError, RecursionError):  # also a 5000-digit number, 100 000 nested brackets
        header = None
    if not isinstance(header, dict) or header.get("type") != "run":
        raise InputError(f"run file {path}: not a vgrad run (line 1 is not a {{\"type\": \"run\"}} header)")
    if header.get("format") not in READABLE_FORMATS:
        raise InputError(f"run file {path}: format {header.get('format')!r} is not supported "
                         f"(this vgrad reads formats {', '.join(map(str, READABLE_FORMATS))})")
    return header


def specs_of(path: Path, header: dict[str, Any]) -> tuple[tuple[NetSpec | ModelSpec, ...], Config]:
    """Each net's spec and the run's config, or InputError: corrupt run header."""
    try:
        nets = header["nets"]
        specs = tuple(_net_spec(net) for net in nets)
        if not specs or [net["id"] for net in nets] != list(range(len(specs))):
            raise ValueError("net ids must be 0, 1, …")
        config = config_from_dict(header["config"]).checked() if "config" in header else WATCHED_CONFIG
        if not isinstance(header.get("data", {}), dict):
            raise ValueError(f"data is {type(header['data']).__name__}, not an object")
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as error:
        reason = error.args[0] if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
        raise InputError(f"run file {path}: corrupt run header ({reason})") from None
    return specs, config


def _net_spec(net: dict[str, Any]) -> NetSpec | ModelSpec:
    if not isinstance(net, dict):
        raise ValueError(f"a net is {type(net).__name__}, not an object")
    """A built-in net (its "spec") or a watched model (its "name" and "layers")."""
    if "spec" in net:
        return parse_net(net["spec"])
    return model_spec(net["name"], net["layers"], net.get("lens"), net.get("activations"),
                      net.get("activation_kinds"))
