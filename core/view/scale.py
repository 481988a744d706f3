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

import numpy as np

from vgrad.core.run.board import NetView
from vgrad.core.view.lens import BIAS, LENSES, lens_values, row_names, shown_lens
from vgrad.core.view.series import series
from vgrad.core.view.summary import ZERO_FLOOR, number

EMPTY_LOG_RANGE = (-5.0, 0.0)
HEADROOM = 1.0   # decades below the smallest s_l when the log range grows


@dataclass(frozen=True)
class SpeedScale:
    """log: log10 s_l from `lo` to `hi`; linear: s_l from 0 to `hi`."""

    lo: float
    hi: float
    log: bool = True
    percent: bool = False     # a fraction lens: 0 … 1 drawn as 0 … 100 %

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
        if self.percent:
            return "linear scale ▁ 0% … █ 100%", ""
        if self.log:
            return (f"log scale ▁ {number(10 ** self.lo)} … █ {number(10 ** self.hi)}",
                    f", · ≈0 (< {ZERO_FLOOR:g})")
        return f"linear scale ▁ 0 … █ {number(self.hi)}", " (the largest now; more clips)"


EMPTY = SpeedScale(*EMPTY_LOG_RANGE)   # shown before any value: it must not widen the range of the values that follow


def speeds(nets: Iterable[NetView], lens: str = BIAS) -> list[float]:
    """Every finite value through `lens` at or above ZERO_FLOOR in every net's history (the
    smallest and the largest of each net: all a range needs)."""
    out: list[float] = []
    for net in nets:
        shown = shown_lens(net.spec, net.history, lens)
        data = series(net.history, shown, row_names(net.spec, shown))
        kept = data.values[~data.missing & np.isfinite(data.values) & (data.values >= ZERO_FLOOR)]
        if kept.size:
            out += [float(kept.min()), float(kept.max())]
    return out


def newest_speeds(nets: Iterable[NetView], lens: str = BIAS) -> list[float]:
    """The finite values through `lens` at or above ZERO_FLOOR of every net's newest record."""
    return [v for net in nets if net.latest is not None
            for v in (lens_values(net.latest, shown_lens(net.spec, net.history, lens)) or ())
            if v is not None and ZERO_FLOOR <= v < math.inf]


def shared_scale(nets: Iterable[NetView], log: bool = True, previous: SpeedScale | None = None,
                 lens: str = BIAS) -> SpeedScale:
    """The range holding every healthy net's values through `lens` (a diverged net's huge values
    would flatten all the others, so they clip at the top). Log: whole decades from the decade
    below the smallest value's to the largest's: a function of the values alone, not of which
    frames were drawn, so a run and its restart (same seed) end on the same range; never narrower
    than `previous` (the empty range shown before any value aside), so it only grows as a run goes
    on; the update ratio's range always holds its healthy band. A fraction lens: 0 … 100 %, linear."""
    nets = tuple(nets)
    if LENSES[lens].fraction:
        return SpeedScale(0.0, 1.0, False, True)
    healthy = tuple(net for net in nets if not net.state.problem)
    if not log:
        values = newest_speeds(healthy, lens) or newest_speeds(nets, lens)
        return SpeedScale(0.0, round_up(max(values)) if values else 1.0, False)
    values = speeds(healthy, lens) or speeds(nets, lens)
    band = LENSES[lens].band
    if band is not None:
        values = [*values, *band]
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
