"""A run file's lines as typed values: Started (the header), StepRecord, Event, End.

`parse_item` turns any line after the header (a JSON object) into a StepRecord, an Event or
an End, or raises ValueError with the reason; every reader (replay, plot, watch) goes through
it, so no part of vgrad handles a line as a raw dict. The writers write `to_json()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vgrad.core.config import Config
from vgrad.core.record.format import EVENT_KINDS
from vgrad.core.record.step import StepRecord
from vgrad.core.subject import Subject
from vgrad.core.text import printable


@dataclass(frozen=True)
class Started:
    """A run begins: its header, read and checked (reader.read_header)."""

    header: dict[str, Any]           # the header line as written (every key; docs/run-format.md)
    specs: tuple[Subject, ...]       # each net's spec or watched model, in id order
    config: Config                   # a built-in run's config; a watched run's has epochs=0 (unknown)
    again: bool = False              # a followed file: an earlier run in it was replaced by this one

    @property
    def locked(self) -> bool:
        """Written by vgrad (its header names the version), whose writers lock the file while
        they write it (guard.claim_output): no lock on it means no writer."""
        return "vgrad" in self.header

    @property
    def source(self) -> str | None:
        """Which API wrote a watched run (`vgrad.watch`, `vgrad.Recorder`); None for a built-in run."""
        source = self.header.get("source")
        return None if source is None else str(source)

    @property
    def data_name(self) -> str:
        data = self.header.get("data", {})
        return str(data.get("name", "?")) if isinstance(data, dict) else "?"


@dataclass(frozen=True)
class Event:
    """Net `net` reached a final state (done, diverged, error: a NetState word), or restarted."""

    net: int
    kind: str                        # one of format.EVENT_KINDS
    epoch: int | None = None         # where it happened, when known
    step: int | None = None
    message: str | None = None       # why (an error's text, the layer that diverged)

    def to_json(self) -> dict[str, Any]:
        where = {key: value for key, value in (("epoch", self.epoch), ("step", self.step), ("message", self.message))
                 if value is not None}
        return {"type": "event", "net": self.net, "kind": str(self.kind), **where}


@dataclass(frozen=True)
class End:
    """The run's last line: how it ended (an EndStatus word) and the seconds it took."""

    status: str
    elapsed: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"type": "end", "status": str(self.status),
                "elapsed": None if self.elapsed is None else round(self.elapsed, 3)}


Item = StepRecord | Event | End     # a line after the header
MESSAGE_SHOWN = 500                 # characters of an event's message kept (a writer's error, a diverged layer)


def parse_item(row: dict[str, Any]) -> Item:
    """One line after the header, or ValueError saying (after "line N") what it is not."""
    kind = row.get("type")
    if kind == "step":
        whole = [key for key in ("net", "step", "epoch") if not (type(row.get(key)) is int
                                                                  or key == "epoch" and row.get(key) is None)]
        if whole:
            raise ValueError(f"is not a valid step ({whole[0]} {printable(repr(row.get(whole[0])))[:20]} is not a "
                             "whole number)")
        try:
            record = StepRecord.from_json(row)
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"is not a valid step ({type(error).__name__}: {error})") from None
        wrong = record.out_of_range()
        if wrong is not None:
            raise ValueError(f"is not a valid step (it {wrong})")
        return record
    if kind == "event":
        return _event(row)
    if kind == "end":
        return _end(row)
    raise ValueError(f"has unknown type {printable(repr(kind))}")


def _event(row: dict[str, Any]) -> Event:
    net, epoch, step, message = row.get("net"), row.get("epoch"), row.get("step"), row.get("message")
    if row.get("kind") not in EVENT_KINDS or type(net) is not int or net < 0 \
            or not all(value is None or type(value) is int for value in (epoch, step)):
        raise ValueError("is not a valid event")
    if message is not None:   # shown as is, never obeyed; a long one up to MESSAGE_SHOWN characters
        message = printable(str(message)[:MESSAGE_SHOWN + 1])
        message = message if len(message) <= MESSAGE_SHOWN else message[:MESSAGE_SHOWN - 1] + "…"
    return Event(net=net, kind=str(row["kind"]), epoch=epoch, step=step, message=message)


def _end(row: dict[str, Any]) -> End:
    status, elapsed = row.get("status", "?"), row.get("elapsed")
    if not isinstance(status, str) or not (elapsed is None or type(elapsed) in (int, float)):
        raise ValueError("is not a valid end")
    return End(status=printable(status), elapsed=None if elapsed is None else float(elapsed))
