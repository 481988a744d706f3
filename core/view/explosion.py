"""What became of a net whose gradient exploded: its peak h1:hk, and what came after it.

The book's exploding chain (w = 100, b = −100·a) makes each factor w σ'(z) = 25 only while every
z stays near 0; the big steps that follow push z out, σ'(z) underflows and every s_l reads ≈ 0.
A panel that shows only the newest s_l would then read ≈0 everywhere with no word of the peak.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vgrad.core.record.step import StepRecord
from vgrad.core.view.summary import ZERO_FLOOR, headline

EXPLODED = 10.0   # s_1/s_k at or above this: the first hidden layer learns ten times faster than the last


def _ratio(record: StepRecord) -> float | None:
    """s_1/s_k where both are measured, finite and above ZERO_FLOOR."""
    first, last = record.speed[0], record.speed[-1]
    if first is None or last is None or not (math.isfinite(first) and math.isfinite(last)):
        return None
    return first / last if first >= ZERO_FLOOR and last >= ZERO_FLOOR else None


def _underflowed(record: StepRecord) -> bool:
    return all(value is not None and 0 <= value < ZERO_FLOOR for value in record.speed)


def explosion_note(history: Sequence[StepRecord], names: Sequence[str] | None = None) -> str:
    """`exploded: h1:h4 = 1.5e4:1 at epoch 0; then saturated: every s_l ≈ 0 from epoch 90 on (σ'(z)
    underflows)`, or what the headline reads now; "" for a net that never exploded (s_1/s_k < EXPLODED)
    or has a single hidden layer."""
    if not history or len(history[0].speed) < 2:
        return ""
    peak, peak_ratio = None, EXPLODED
    for record in history:
        ratio = _ratio(record)
        if ratio is not None and ratio >= peak_ratio:
            peak, peak_ratio = record, ratio
    if peak is None:
        return ""
    at_peak = headline(peak.speed, names)
    words = [f"exploded: {at_peak.text if at_peak else ''} at epoch {peak.epoch} (the most)"]
    latest = history[-1]
    if latest is peak:
        return words[0]
    if _underflowed(latest):
        since = latest
        for record in reversed(history):
            if record is peak or not _underflowed(record):
                break
            since = record
        words.append(f"then saturated: every s_l ≈ 0 from epoch {since.epoch} on (σ'(z) underflows, "
                     "nothing passes back)")
    elif latest.is_finite:   # a diverged net's status says so already
        now = headline(latest.speed, names)
        if now is not None:
            words.append(f"now {now.text}")
    return "; ".join(words)
