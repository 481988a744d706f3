"""Sparkline drawing of a layer's values through a lens over a net's history, on a scale shared by all panels.

Textual's Sparkline scales each line to its own min/max; here every line uses one
SpeedScale, so a layer that learns 100x slower draws visibly lower bars. A drawing
is a tuple of levels, one per column, so a widget repaints only when a level moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from vgrad.core.record.step import StepRecord
from vgrad.core.view.scale import SpeedScale
from vgrad.core.view.series import Series
from vgrad.core.view.summary import ZERO_FLOOR, steps_per_epoch

BARS = " ▁▂▃▄▅▆▇█"
BAD = -1      # nan or inf
ZERO = 0      # s_l ≈ 0 (under ZERO_FLOOR) on a log scale
BAR, BAD_CELL, ZERO_CELL = "log-sparkline--bar", "log-sparkline--bad", "log-sparkline--zero"
COMPONENTS = {BAR, BAD_CELL, ZERO_CELL}


def run_steps(history: tuple[StepRecord, ...], total_epochs: int) -> int | None:
    """The steps the whole run takes: E × steps per epoch (1 in speed mode; in sgd mode read off
    an epoch-end record, the smallest step/epoch); None until an epoch has ended. A watched
    model's run has no known length (total_epochs 0): the steps so far fill the width, up to its
    newest record's step (the axis ends there)."""
    if total_epochs <= 0:
        return history[-1].step if history else None
    per_epoch = steps_per_epoch(history)
    return None if per_epoch is None or total_epochs <= 0 else round(per_epoch * total_epochs)


def column_indices(steps: Sequence[int], width: int, total: int | None) -> list[int]:
    """Per column of `width`, the index of its newest record, column c covering steps
    [c·S/width, (c+1)·S/width) of the run's `total` steps S (or the record before, where a column
    has none). Old columns hold still as a run goes on."""
    if not len(steps) or width <= 0:
        return []
    newest: dict[int, int] = {}
    for index, step in enumerate(steps):
        newest[0 if not total else min(width - 1, int(step) * width // total)] = index
    out, carried = [], 0
    for column in range(max(newest) + 1):
        carried = newest.get(column, carried)
        out.append(carried)
    return out


def levels(data: Series, row: int, width: int, height: int, steps: int | None,
           scale: SpeedScale) -> tuple[int, ...]:
    """Per column, how many eighths of `height` rows row `row`'s value fills (1 … 8·height), or BAD / ZERO."""
    top = 8 * height - 1
    out = []
    for t in column_indices(data.steps, width, steps):
        value = data.value(t, row)
        position = scale.fraction(value)
        if value is None:        # not measured (a watched layer without a bias): blank
            out.append(ZERO)
        elif position is None:
            out.append(BAD)
        elif scale.log and value < ZERO_FLOOR:
            out.append(ZERO)
        else:
            out.append(1 + round(position * top))
    return tuple(out)


def cell(count: int, floor: int, bottom: bool) -> tuple[str, str]:
    """The character and component class of one cell whose row starts `floor` eighths up."""
    if count == BAD:
        return ("!" if bottom else " "), BAD_CELL
    if count == ZERO:
        return ("·" if bottom else " "), ZERO_CELL
    return BARS[max(0, min(8, count - floor))], BAR


def row_runs(cells: tuple[int, ...], row: int, height: int) -> list[tuple[str, str]]:
    """Row `row` (0 = top) of the sparkline as (text, component class) runs."""
    floor, bottom = 8 * (height - 1 - row), row == height - 1
    runs = groupby((cell(count, floor, bottom) for count in cells), key=lambda c: c[1])
    return [("".join(char for char, _ in chars), component) for component, chars in runs]
