"""The end-of-run figures per net: s_l at the first and last record, and the first/last-layer ratio."""

from __future__ import annotations

from dataclasses import dataclass

from vgrad.core.record.step import StepRecord
from vgrad.core.run.lens import BIAS, WEIGHT, first_to_last


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
        return first_to_last(self.first, BIAS), first_to_last(self.last, BIAS)

    @property
    def weight_first_to_last_ratio(self) -> tuple[float | None, float | None]:
        """The same through the weight lens: ‖∂C/∂W^1‖ / ‖∂C/∂W^k‖ (nan where not measured)."""
        return first_to_last(self.first, WEIGHT), first_to_last(self.last, WEIGHT)

    @property
    def accuracy(self) -> float | None:
        return self.last.accuracy if self.last is not None else None


def summarise(view) -> NetSummary:
    """Summary of one board NetView."""
    return NetSummary(label=view.spec.label, state=view.state,
                      first=view.history[0] if view.history else None, last=view.latest,
                      message=view.message)
