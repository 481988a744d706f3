"""What a Runner hands every record to: the JSONL and CSV recorders of writer.py satisfy it.

A sink is called from the worker threads (one per net) as records are made, and ended once
by the session. It must never raise into training, nor hold it up for long: a sink that cannot
write says why in `failure` (possibly some calls later: the JSONL recorder writes on its own
thread), which the runner shows on the board as a run-wide notice.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from vgrad.core.record.step import StepRecord
from vgrad.core.status import EndStatus, NetState


@runtime_checkable
class Sink(Protocol):
    """Receives a run's step records, its events and its end, in that order per net."""

    @property
    def failure(self) -> str | None:
        """Why lines were not written (a full disk, a stalled destination, …), else None."""
        ...

    def step(self, record: StepRecord) -> None: ...

    def event(self, net: int, kind: NetState | str, *, epoch: int | None = None, step: int | None = None,
              message: str | None = None) -> None:
        """Net `net` reached a final state (done, diverged, error) at this epoch and step, and why;
        or format.RESTART: it starts again from step 0."""
        ...

    def end(self, status: EndStatus, elapsed: float) -> None:
        """The run ended with an EndStatus after `elapsed` seconds: write the end and close."""
        ...
