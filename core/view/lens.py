"""The two lenses on a layer's learning: the book's s_l = ‖mean ∂C/∂b^l‖ and ‖mean ∂C/∂W^l‖.

The bias lens is blind to batch normalisation (it removes the mean of the gradient it passes
back, so ∂C/∂β stays small) while the weight lens shows the remedy. Every view (dashboard,
plot, headless table) reads a record's `speed`, so looking through the weight lens is a record
whose `speed` holds its `weight_grad`: the scale, the sparklines and the headline follow. A
record that never measured the weight lens (format 1) reads as nan there, drawn as a gap.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import BoardView

BIAS, WEIGHT = "bias", "weight"
LENSES = (BIAS, WEIGHT)
SYMBOLS = {BIAS: "s_l", WEIGHT: "‖∂C/∂W‖"}          # what the numbers are, short
NAMES = {BIAS: "‖∂C/∂b‖ (s_l)", WEIGHT: "‖∂C/∂W‖"}  # the lens as a panel names it
_CACHE_SIZE = 8192  # records kept seen through the weight lens (four nets' whole histories)


def lens_values(record: StepRecord, lens: str) -> tuple[float | None, ...]:
    """The record's per-hidden-layer numbers through `lens` (nan where the weight lens was not measured)."""
    if lens == BIAS:
        return record.speed
    if record.weight_grad is None:
        return (float("nan"),) * len(record.speed)
    return record.weight_grad


class _Seen:
    """Records already seen through the weight lens, by identity: a board's history keeps the
    same record objects from one snapshot to the next, so each is converted once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[int, tuple[StepRecord, StepRecord]] = {}

    def through(self, record: StepRecord) -> StepRecord:
        with self._lock:
            hit = self._records.get(id(record))
            if hit is not None and hit[0] is record:
                return hit[1]
            seen = replace(record, speed=lens_values(record, WEIGHT))
            if len(self._records) >= _CACHE_SIZE:
                self._records.clear()
            self._records[id(record)] = (record, seen)
            return seen


_SEEN = _Seen()


def through_lens(record: StepRecord, lens: str) -> StepRecord:
    """`record` with `speed` holding the numbers of `lens` (the record itself for the bias lens)."""
    return record if lens == BIAS else _SEEN.through(record)


def view_through_lens(view: BoardView, lens: str) -> BoardView:
    """Every net's latest record and history seen through `lens`; same version and states."""
    if lens == BIAS:
        return view
    nets = tuple(replace(net, latest=None if net.latest is None else through_lens(net.latest, lens),
                         history=tuple(through_lens(record, lens) for record in net.history))
                 for net in view.nets)
    return replace(view, nets=nets)


def first_to_last(record: StepRecord | None, lens: str) -> float | None:
    """The first hidden layer's number over the last's through `lens` (≪ 1: the first learns slower)."""
    if record is None or (lens == WEIGHT and record.weight_grad is None):
        return None
    values = lens_values(record, lens)
    if not values:
        return None
    first, last = values[0], values[-1]
    if first is None or last is None or last == 0:  # a watched layer without a bias has no s_l
        return None
    return first / last
