"""The range every sparkline shares, so bar heights compare across layers and nets.

The log range only grows during a run, in whole decades with a decade of headroom below the
smallest s_l (nets slow down as they train), so bars never jump as it is redrawn; s_l under
ZERO_FLOOR is underflow, drawn as ≈0 (·) and never stretches it. The linear range is 0 … the
largest s_l now, so the late, small speeds are seen (earlier, larger ones clip at the top).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from vgrad.core.run.board import NetView
from vgrad.core.view.summary import ZERO_FLOOR, number

EMPTY_LOG_RANGE = (-5.0, 0.0)
HEADROOM = 1.0   # decades below the smallest s_l when the log range grows


@dataclass(frozen=True)
class SpeedScale:
    """log: log10 s_l from `lo` to `hi`; linear: s_l from 0 to `hi`."""

    lo: float
    hi: float
    log: bool = True

    def fraction(self, value: float | None) -> float | None:
        """Where `value` sits in the range, 0..1; None for nan/inf or no value; 0 for s ≈ 0."""
        if value is None or not math.isfinite(value):
            return None
        if self.log:
            if value < ZERO_FLOOR:
                return 0.0
            position = (math.log10(value) - self.lo) / (self.hi - self.lo)
        else:
            position = value / self.hi if self.hi > 0 else 0.0
        return min(1.0, max(0.0, position))

    @property
    def legend(self) -> tuple[str, str]:
        """What the bars span, and what · means (log) or what clips (linear)."""
        if self.log:
            return (f"log scale ▁ {number(10 ** self.lo)} … █ {number(10 ** self.hi)}",
                    f", · ≈0 (< {ZERO_FLOOR:g})")
        return f"linear scale ▁ 0 … █ {number(self.hi)}", " (the largest now; more clips)"


EMPTY = SpeedScale(*EMPTY_LOG_RANGE)   # shown before any s_l: it must not widen the range of the values that follow


def speeds(nets: Iterable[NetView]) -> list[float]:
    """Every finite s_l at or above ZERO_FLOOR in every net's history (None: not measured)."""
    return [v for net in nets for record in net.history for v in record.speed
            if v is not None and ZERO_FLOOR <= v < math.inf]


def newest_speeds(nets: Iterable[NetView]) -> list[float]:
    """The finite s_l at or above ZERO_FLOOR of every net's newest record."""
    return [v for net in nets if net.latest is not None for v in net.latest.speed
            if v is not None and ZERO_FLOOR <= v < math.inf]


def shared_scale(nets: Iterable[NetView], log: bool = True, previous: SpeedScale | None = None) -> SpeedScale:
    """The range holding every healthy net's s_l (a diverged net's huge values would flatten all
    the others, so they clip at the top). Log: whole decades from the decade below the smallest
    s_l's to the largest's: a function of the values alone, not of which frames were drawn, so a
    run and its restart (same seed) end on the same range; never narrower than `previous` (the
    empty range shown before any value aside), so it only grows as a run goes on."""
    nets = tuple(nets)
    healthy = tuple(net for net in nets if not net.state.problem)
    if not log:
        values = newest_speeds(healthy) or newest_speeds(nets)
        return SpeedScale(0.0, round_up(max(values)) if values else 1.0, False)
    values = speeds(healthy) or speeds(nets)
    kept = previous if previous is not None and previous.log and previous is not EMPTY else None
    if not values:
        return kept or EMPTY
    low, high = math.log10(min(values)), math.log10(max(values))
    lo, hi = math.floor(low) - HEADROOM, max(math.ceil(high), math.floor(low) + 1)
    if kept is not None and kept.lo <= lo and hi <= kept.hi:
        return kept
    if kept is not None:   # a bounded history may have dropped the extremes: never narrower
        lo, hi = min(lo, kept.lo), max(hi, kept.hi)
    return SpeedScale(lo, hi, True)


def round_up(value: float) -> float:
    """`value` rounded up to two significant digits, so the linear scale moves in steps."""
    exponent = math.floor(math.log10(value)) - 1
    return math.ceil(value / 10 ** exponent) * 10 ** exponent
