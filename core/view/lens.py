"""The lenses on a layer's learning, and which value of a record each one reads.

- bias: the book's s_l = ‖mean ∂C/∂b^l‖; blind to batch normalisation (it removes the mean of
  the gradient it passes back, so ∂C/∂β stays small);
- weight: ‖mean ∂C/∂W^l‖, which shows the remedy;
- update: the update ratio ‖Δθ‖/‖θ‖ (about 1e-3 is healthy; under 1e-4 a layer barely moves,
  over 1e-2 it thrashes);
- saturation: the fraction of a layer's units that pass back almost nothing: σ'(z) < 0.01 or
  |tanh| > 0.97 (saturated), a ReLU-family unit zero on the whole batch (dead).

A lens chooses a value; records are never rewritten. Absent values (a format 1 file through
the weight lens) read as None, "not measured".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vgrad.core.record.step import StepRecord
from vgrad.core.subject import Subject

BIAS, WEIGHT, UPDATE, SATURATION = "bias", "weight", "update", "saturation"
LENS_NAMES = (BIAS, WEIGHT, UPDATE, SATURATION)
HEALTHY_UPDATE = 1e-3              # the update ratio of a layer that learns at a sane pace
UPDATE_BAND = (1e-4, 1e-2)         # outside this a layer barely moves (below) or thrashes (above)


@dataclass(frozen=True)
class Lens:
    key: str
    symbol: str                    # what the numbers are, short: s_l, ‖∂C/∂W‖
    title: str                     # the lens as a panel names it
    fraction: bool = False         # values in [0, 1], drawn linear as 0–100 %
    band: tuple[float, float] | None = None   # healthy range, layers outside it marked


LENSES = {
    BIAS: Lens(BIAS, "s_l", "‖∂C/∂b‖ (s_l)"),
    WEIGHT: Lens(WEIGHT, "‖∂C/∂W‖", "‖∂C/∂W‖"),
    UPDATE: Lens(UPDATE, "‖Δθ‖/‖θ‖", "update ratio ‖Δθ‖/‖θ‖", band=UPDATE_BAND),
    SATURATION: Lens(SATURATION, "saturated", "saturated or dead units", fraction=True),
}
# kept for the figures and headless table, which name lenses by these
SYMBOLS = {key: lens.symbol for key, lens in LENSES.items()}
NAMES = {key: lens.title for key, lens in LENSES.items()}


def named(text: str, lens: str) -> str:
    """`text` (a headline, a row of values) as read through `lens`: named unless it is the book's
    s_l, which every view takes for granted."""
    return f"{LENSES[lens].symbol} {text}" if text and lens != BIAS else text


def lens_values(record: StepRecord, lens: str) -> tuple[float | None, ...] | None:
    """The record's numbers through `lens`, one per row (None: the lens was not measured in this
    record). Saturation reads each activation's saturated fraction, or its dead fraction (ReLU)."""
    if lens == BIAS:
        return record.speed
    if lens == WEIGHT:
        return record.weight_grad
    if lens == UPDATE:
        return record.update_ratio
    if record.saturated is None and record.dead is None:
        return None
    saturated = record.saturated or ()
    dead = record.dead or ()
    count = max(len(saturated), len(dead))
    return tuple(_either(saturated[i] if i < len(saturated) else None, dead[i] if i < len(dead) else None)
                 for i in range(count))


def _either(saturated: float | None, dead: float | None) -> float | None:
    return saturated if saturated is not None else dead


def row_names(spec: Subject, lens: str) -> tuple[str, ...]:
    """The rows of `lens`: the layers, or the activations (saturation; h1 … hk for built-in nets)."""
    if lens == SATURATION and spec.activations:
        return spec.activations
    return spec.layer_names


def default_lens(spec: Subject, records: Iterable[StepRecord] = ()) -> str:
    """The lens a panel opens on: the file's (format 3; "bias" before), unless its first record
    has no bias gradient at all and has the weight lens (a bias-free model in a format 2 file)."""
    for record in records:
        if all(value is None for value in record.speed) and measured(record, WEIGHT):
            return WEIGHT
        break
    return spec.lens if spec.lens in LENSES else BIAS


def measured(record: StepRecord | None, lens: str) -> bool:
    """Whether `record` has any value through `lens`."""
    values = None if record is None else lens_values(record, lens)
    return values is not None and any(value is not None for value in values)


def shown_lens(spec: Subject, records: Sequence[StepRecord], lens: str) -> str:
    """The lens a panel shows when the app looks through `lens`: that one, unless this net never
    measured it (a bias-free model through s_l) and its own default lens has values."""
    latest = records[-1] if records else None
    if latest is None or measured(latest, lens):
        return lens
    own = default_lens(spec, records[:1])
    return own if measured(latest, own) else lens


def lenses_in(records: Iterable[StepRecord]) -> tuple[str, ...]:
    """The lenses a history has values for, in LENS_NAMES order (bias if none has any)."""
    found: set[str] = set()
    for record in records:
        found.update(lens for lens in LENS_NAMES if measured(record, lens))
        if len(found) == len(LENS_NAMES):
            break
    return tuple(lens for lens in LENS_NAMES if lens in found) or (BIAS,)


def next_lens(current: str, available: Sequence[str]) -> str:
    """The lens after `current` among `available`, round again after the last."""
    if current not in available:
        return available[0] if available else BIAS
    return available[(available.index(current) + 1) % len(available)]


def combine(values: Sequence[float | None], lens: str) -> float | None:
    """Several rows as one (a folded block, or rows binned to fit): the root-sum-square of norms
    (the block's own norm), the root-mean-square of update ratios, the largest fraction (the worst
    unit). None where none was measured; nan/inf kept, so a bad value shows."""
    measured = [v for v in values if v is not None]
    if not measured:
        return None
    bad = next((v for v in measured if not math.isfinite(v)), None)
    if bad is not None:
        return bad
    if LENSES[lens].fraction:
        return max(measured)
    total = math.fsum(v * v for v in measured)
    return math.sqrt(total / len(measured)) if lens == UPDATE else math.sqrt(total)


def power(value: float) -> str:
    """A power of ten as 1e-4 (no zero padding)."""
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def outside_band(value: float | None, lens: str) -> bool:
    """Whether `value` lies outside the lens's healthy band (the update ratio's 1e-4 … 1e-2)."""
    band = LENSES[lens].band
    return band is not None and value is not None and math.isfinite(value) and not band[0] <= value <= band[1]
