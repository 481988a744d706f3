"""The range every sparkline shares, so bar heights compare across layers and nets."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from vgrad.core.run.board import NetView
from vgrad.tui.widgets.formatting import sci

EMPTY_LOG_RANGE = (-5.0, 0.0)
STEP = 0.25   # the log range moves in quarter decades, so it (and every bar) holds still


@dataclass(frozen=True)
class SpeedScale:
    """log: log10 s_l from `lo` to `hi`; linear: s_l from 0 to `hi`."""

    lo: float
    hi: float
    log: bool = True

    def fraction(self, value: float | None) -> float | None:
        """Where `value` sits in the range, 0..1; None for nan/inf or no value; 0 for s = 0."""
        if value is None or not math.isfinite(value):
            return None
        if self.log:
            if value <= 0:
                return 0.0
            position = (math.log10(value) - self.lo) / (self.hi - self.lo)
        else:
            position = value / self.hi if self.hi > 0 else 0.0
        return min(1.0, max(0.0, position))

    @property
    def legend(self) -> tuple[str, str]:
        """What the bars span, and (log scale) the same in log10 s."""
        if self.log:
            return (f"log scale ▁ {sci(10 ** self.lo)} … █ {sci(10 ** self.hi)}",
                    f" (log10 s {self.lo:.2f} … {self.hi:.2f})")
        return f"linear scale ▁ 0 … █ {sci(self.hi)}", ""


def speeds(nets: Iterable[NetView]) -> list[float]:
    """Every finite, positive s_l in every net's history."""
    return [v for net in nets for record in net.history for v in record.speed
            if v is not None and 0 < v < math.inf]


def shared_scale(nets: Iterable[NetView], log: bool = True) -> SpeedScale:
    """The range holding every healthy net's s_l, widened to quarter decades (a diverged net's
    huge values would flatten all the others, so they clip at the top)."""
    nets = tuple(nets)
    healthy = [net for net in nets if not net.state.problem]
    values = speeds(healthy) or speeds(nets)
    if not values:
        lo, hi = EMPTY_LOG_RANGE
        return SpeedScale(lo, hi, log) if log else SpeedScale(0.0, 1.0, False)
    smallest, largest = min(values), max(values)
    if not log:
        return SpeedScale(0.0, round_up(largest), False)
    lo = math.floor(math.log10(smallest) / STEP) * STEP
    hi = math.ceil(math.log10(largest) / STEP) * STEP
    if hi - lo < 2 * STEP:
        lo, hi = lo - STEP, hi + STEP
    return SpeedScale(lo, hi, True)


def round_up(value: float) -> float:
    """`value` rounded up to two significant digits, so the linear scale moves in steps."""
    exponent = math.floor(math.log10(value)) - 1
    return math.ceil(value / 10 ** exponent) * 10 ** exponent
