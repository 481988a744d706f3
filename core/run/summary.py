"""The end-of-run figures per net: s_l at the first and last record, and the first/last-layer ratio."""

from __future__ import annotations

from dataclasses import dataclass

from vgrad.core.record.step import StepRecord


@dataclass(frozen=True)
class NetSummary:
    label: str
    state: str
    first: StepRecord | None
    last: StepRecord | None
    message: str = ""

    @property
    def first_to_last_ratio(self) -> tuple[float | None, float | None]:
        """s_1 / s_k at the first and at the last record (≪ 1: the first layer learns slower)."""
        return _ratio(self.first), _ratio(self.last)

    @property
    def accuracy(self) -> float | None:
        return self.last.accuracy if self.last is not None else None


def _ratio(record: StepRecord | None) -> float | None:
    if record is None or not record.speed or record.speed[-1] == 0:
        return None
    return record.speed[0] / record.speed[-1]


def summarise(view) -> NetSummary:
    """Summary of one board NetView."""
    return NetSummary(label=view.spec.label, state=view.state,
                      first=view.history[0] if view.history else None, last=view.latest,
                      message=view.message)
