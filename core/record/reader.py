"""Read a JSONL run file as a stream: bounded memory however long the run, a damaged tail a warning.

Lines go through a LineParser, which `read_run` (replay, plot) and the Follower (watch) share:
the header becomes a Started, every later line a StepRecord, Event or End (events.parse_item).
Long stretches of step records are thinned per net with the board's own rule (history.History:
keep every stride-th record, double the stride when full; the newest is always kept): a thinned
record is only checked for its net and never decoded, so a million-step file opens in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from vgrad.core.config import MAX_EPOCHS, Config, config_from_dict
from vgrad.core.errors import InputError
from vgrad.core.guard import open_regular
from vgrad.core.record.events import End, Event, Item, Started, parse_item
from vgrad.core.record.format import MAX_LINE as MAX_LINE  # tail.py takes it from here too
from vgrad.core.record.format import MAX_STEP, READABLE_FORMATS, RESTART
from vgrad.core.record.history import History
from vgrad.core.record.model import model_spec
from vgrad.core.record.step import StepRecord
from vgrad.core.spec import MAX_NETS, parse_net
from vgrad.core.subject import Subject
from vgrad.core.text import printable

WATCHED_CONFIG = Config(epochs=0)   # a watched model's file has no config: epochs unknown
READ_CAPACITY = 4096                # records kept per net when a file is read whole
HELD_BYTES = 64 << 20               # undecoded step lines held while a batch is read, at most (about)
MIN_HELD = 16                       # step lines held per net however long they are
DECODED_VALUES = 1 << 18            # layer values (s_l) decoded per net per batch, at most (about)
MAX_EVENTS = 10_000                 # event and end lines read at a time, at most (a run writes a few per net)
STEP_PREFIX = b'{"type": "step", "net": '   # how vgrad's writers start a step line


class _HeaderFacts:
    """The header's facts, read through `started` (the checked header) by name."""

    started: Started

    @property
    def header(self) -> dict[str, Any]:
        return self.started.header

    @property
    def specs(self) -> tuple[Subject, ...]:
        return self.started.specs

    @property
    def config(self) -> Config:
        return self.started.config


@dataclass
class Recording(_HeaderFacts):
    """A run file read back: header facts, steps in file order (thinned), events, and any warning."""

    path: Path
    started: Started                  # the header, read and checked
    steps: list[StepRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    end: End | None = None
    warning: str | None = None
    restarts: int = 0                 # restart events read; each net keeps only what follows its last
    records: int = 0                  # step records in the file (before thinning)
    bad_line: int | None = None       # the number of the first line that is not a record, if any

    @property
    def data_name(self) -> str:
        return self.started.data_name

    def steps_of(self, net: int) -> list[StepRecord]:
        return [step for step in self.steps if step.net == net]

    def take(self, item: Item) -> None:
        """Add one parsed item (a step, an event or the end line)."""
        if isinstance(item, StepRecord):
            self.steps.append(item)
        elif isinstance(item, End):
            self.end = item
        else:
            if item.kind == RESTART:
                self.steps = [step for step in self.steps if step.net != item.net]
                self.events = [event for event in self.events if event.net != item.net]
                self.restarts += 1
            self.events.append(item)


@dataclass
class Batch:
    """What a stretch of lines held: items in file order, and the first bad line (number, reason)."""

    items: list[Item] = field(default_factory=list)
    records: int = 0                  # step lines read, thinned or not
    problem: tuple[int, str] | None = None


class LineParser(_HeaderFacts):
    """Parses the lines after a header; thins each batch's step records to `capacity` per net."""

    def __init__(self, path: Path, header_line: bytes | str, capacity: int = READ_CAPACITY) -> None:
        self.path = path
        self.started = read_header(path, header_line)
        self.capacity = capacity
        # a deep model's records are decoded fewer at a time: a 10,000-layer backlog opens in seconds
        self.capacities = [max(MIN_HELD, min(capacity, DECODED_VALUES // max(spec.hidden, 1))) for spec in self.specs]
        self.line_number = 1

    def parse(self, lines: Iterable[bytes]) -> Batch:
        """Lines (complete, without their newline, any iterable) that follow the ones already
        parsed; only the kept ones are held, so a file streams through in bounded memory. A line
        that is not a step is parsed at once, never held as bytes: the first bad one ends the read."""
        batch = Batch()
        kept: dict[int, History[tuple[int, bytes]]] = {}
        newest: dict[int, tuple[int, bytes]] = {}
        others: list[tuple[int, Item | str]] = []
        parsed: list[Item] = []
        count, longest, capacity = 0, 0, self.capacity   # capacity: by bytes held; capacities: by values decoded
        for index, raw in enumerate(lines):
            count += 1
            net = _step_net(raw)
            if net is not None and 0 <= net < len(self.specs):
                kept_line = (index, raw)
                if len(raw) > longest:      # long lines (a deep model's, or junk): fewer of them held
                    longest = len(raw)
                    capacity = _held_capacity(self.capacity, longest, len(self.specs), kept.values())
                if net not in kept:
                    kept[net] = History(min(capacity, self.capacities[net]))
                kept[net].capacity = min(capacity, self.capacities[net])
                kept[net].add(kept_line)
                newest[net] = kept_line
                batch.records += 1
            elif raw.strip():
                others.append((index, self.parse_line(raw) if len(others) < MAX_EVENTS else
                               f"is event number {MAX_EVENTS + 1}: more than a vgrad run writes"))
                if isinstance(others[-1][1], str):
                    break                       # nothing after a damaged line is read
        entries: list[tuple[int, Item | str | bytes]] = [*others]
        entries.extend(line for net, history in kept.items() for line in history.view(newest[net]))
        entries.sort(key=lambda entry: entry[0])
        for index, entry in entries:
            item = self.parse_line(entry) if isinstance(entry, bytes) else entry
            if isinstance(item, str):
                batch.problem = (self.line_number + 1 + index, printable(item))
                break
            parsed.append(item)
        batch.items = parsed
        self.line_number += count
        return batch

    def parse_line(self, raw: bytes) -> Item | str:
        """One line as a StepRecord, an Event or the End, or the reason it is not one."""
        try:
            row = json.loads(raw)
        except (ValueError, RecursionError):  # also a 5000-digit number, 100 000 nested brackets
            return "is not complete JSON"
        if not isinstance(row, dict):
            return "is not a JSON object"
        try:
            item = parse_item(row)
        except ValueError as error:
            return str(error)
        if isinstance(item, StepRecord):
            step = item
            if not 0 <= step.net < len(self.specs):
                return f"names net {step.net}, which the header does not have"
            last_epoch = self.config.n_epochs if self.config is not WATCHED_CONFIG else MAX_EPOCHS
            if not (0 <= step.epoch <= last_epoch and 0 <= step.step <= MAX_STEP):
                return f"has epoch {step.epoch}, step {step.step} (outside 0…{last_epoch}, 0…{MAX_STEP})"
            return _misfit(step, self.specs[step.net]) or step
        if isinstance(item, Event) and not item.net < len(self.specs):
            return "is not a valid event"
        return item


def _misfit(step: StepRecord, spec: Subject) -> str | None:
    """Why the step's series do not fit its net's layers and activations, or None."""
    layers, activations = len(spec.layer_names), len(spec.activations)
    per_layer = {"speeds": step.speed, "neuron lists": step.neurons, "weight gradients": step.weight_grad,
                 "update ratios": step.update_ratio}
    for what, values in per_layer.items():
        if values is not None and len(values) != layers:
            return f"has {len(values)} {what} for a net with {layers} layers"
    for what, values in {"saturated fractions": step.saturated, "dead fractions": step.dead}.items():
        if values is not None and len(values) != activations:
            return f"has {len(values)} {what} for a net with {activations} activations"
    return None


def _held_capacity(capacity: int, longest: int, nets: int, held: Iterable[History[tuple[int, bytes]]]) -> int:
    """Step lines held per net while a batch is read, so that at most HELD_BYTES of undecoded lines
    are held however long they are; the histories already filled are thinned down to it."""
    fitting = max(MIN_HELD, min(capacity, HELD_BYTES // (longest * nets)))
    for history in held:
        history.capacity = fitting
        while len(history.points) >= fitting:
            history.points, history.stride = history.points[::2], history.stride * 2
    return fitting


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
            recording = Recording(path=path, started=parser.started)
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
    shown = printable(path)
    if batch.problem:
        number, problem = batch.problem
        recording.bad_line = number
        recording.warning = (f"run file {shown}: line {number} {problem}; "
                             f"playing the {len(recording.steps)} steps before it")
    elif recording.end is None:
        recording.warning = (f"run file {shown}: the run was cut short (no end line); "
                             f"playing its {len(recording.steps)} recorded steps")
    return recording


def _lines(file: IO[bytes]) -> Iterator[bytes]:
    """Every line after the header, without its newline, streamed; longer than MAX_LINE, in pieces
    (which fail to parse). A last line without a newline stays (and fails if cut short)."""
    for raw in iter(lambda: file.readline(MAX_LINE), b""):
        yield raw.rstrip(b"\n")


def read_header(path: Path, line: bytes | str) -> Started:
    """A run file's first line as a Started, or InputError: not a run, a format this vgrad does
    not read (a newer one: say so), a corrupt header."""
    header = parse_header(path, line)
    specs, config = specs_of(path, header)
    return Started(header=header, specs=specs, config=config)


def parse_header(path: Path, line: bytes | str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except (ValueError, RecursionError):  # also a 5000-digit number, 100 000 nested brackets
        header = None
    if not isinstance(header, dict) or header.get("type") != "run":
        raise InputError(f"run file {path}: not a vgrad run (line 1 is not a {{\"type\": \"run\"}} header)")
    version = header.get("format")
    shown = printable(repr(version))
    shown = shown if len(shown) <= 20 else shown[:17] + "..."
    if type(version) is int and version > max(READABLE_FORMATS):
        raise InputError(f"run file {path}: format {shown} was made by a newer vgrad (this one reads formats "
                         f"{', '.join(map(str, READABLE_FORMATS))}); upgrade vgrad to read it")
    if type(version) is not int or version not in READABLE_FORMATS:   # not True, not 2.0
        raise InputError(f"run file {path}: format {shown} is not supported "
                         f"(this vgrad reads formats {', '.join(map(str, READABLE_FORMATS))})")
    return header


def specs_of(path: Path, header: dict[str, Any]) -> tuple[tuple[Subject, ...], Config]:
    """Each net's spec and the run's config, or InputError: corrupt run header."""
    try:
        nets = header["nets"]
        if isinstance(nets, list) and len(nets) > MAX_NETS:   # refused before 5,000 specs are parsed
            raise ValueError(f"{len(nets)} nets; a vgrad run has at most {MAX_NETS}")
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


def _net_spec(net: dict[str, Any]) -> Subject:
    """A built-in net (its "spec") or a watched model (its "name", "layers", and from format 3
    "lens" and "activations" with their "activation_kinds")."""
    if not isinstance(net, dict):
        raise ValueError(f"a net is {type(net).__name__}, not an object")
    if "spec" in net:
        return parse_net(net["spec"])
    spec = model_spec(net["name"], net["layers"], lens=net.get("lens"), activations=net.get("activations"),
                      activation_kinds=net.get("activation_kinds"))
    return replace(spec, name=printable(spec.name), layers=tuple(map(printable, spec.layers)),
                   activations=tuple(map(printable, spec.activations)))  # shown, never obeyed
