"""What a panel draws of one net: its history through a lens as rows × time, folded and
smoothed as asked. Every view (rows, heatmap, plot, headline) reads a Series; records stay as
they were written.

Smoothing is an exponential moving average over N records, α = 2/(N + 1), decayed by the steps
between kept records (the board thins a long history), so N means N records of the run.
A value not measured stays not measured; nan/inf is shown as it is and leaves the average alone.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgrad.core.record.step import StepRecord
from vgrad.core.view.lens import LENSES, UPDATE, lens_values, row_names
from vgrad.core.view.names import fold_groups, short_names

_CACHE_SIZE = 16384     # rows kept converted (records by identity, per lens)
HEATMAP_DEPTH = 16      # a net with more rows than this is drawn as a heatmap (panel and plot) unless asked


@dataclass(frozen=True, eq=False)
class Series:
    """Rows × time: values[t, r] of row r at steps[t] (nan where missing[t, r]: not measured)."""

    lens: str
    names: tuple[str, ...]
    steps: np.ndarray             # (T,) int
    values: np.ndarray            # (T, R) float64
    missing: np.ndarray           # (T, R) bool
    smoothed: int = 0             # N of the moving average; 0: raw values
    low: np.ndarray | None = None   # (T, R) the raw values' running min and max over the last N records
    high: np.ndarray | None = None  # (smoothed only: the faint band behind a smoothed line)

    @property
    def rows(self) -> int:
        return len(self.names)

    def value(self, t: int, row: int) -> float | None:
        return None if self.missing[t, row] else float(self.values[t, row])

    def latest(self) -> tuple[float | None, ...]:
        """Each row's newest value (all None before the first record)."""
        if not len(self.steps):
            return (None,) * self.rows
        return tuple(self.value(len(self.steps) - 1, row) for row in range(self.rows))


class _Rows:
    """Records already read through a lens, by identity: a board's history keeps the same record
    objects from one snapshot to the next, so each is converted once (values and what is missing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[int, str, int], tuple[StepRecord, np.ndarray, np.ndarray]] = {}

    def row(self, record: StepRecord, lens: str, count: int) -> tuple[np.ndarray, np.ndarray]:
        key = (id(record), lens, count)
        with self._lock:
            hit = self._rows.get(key)
            if hit is not None and hit[0] is record:
                return hit[1], hit[2]
        values = lens_values(record, lens)
        row = np.full(count, np.nan)
        missing = np.ones(count, bool)
        if values is not None:
            shown = values[:count]
            row[:len(shown)] = [math.nan if v is None else v for v in shown]
            missing[:len(shown)] = [v is None for v in shown]
        row.setflags(write=False)
        missing.setflags(write=False)
        with self._lock:
            if len(self._rows) >= _CACHE_SIZE:
                self._rows.clear()
            self._rows[key] = (record, row, missing)
        return row, missing


_ROWS = _Rows()


def series(history: Sequence[StepRecord], lens: str, names: Sequence[str]) -> Series:
    """`history` through `lens`, one row per name (the layers, or the activations)."""
    count = len(names)
    steps = np.array([record.step for record in history], dtype=np.int64)
    if not history:
        empty = np.empty((0, count))
        return Series(lens, tuple(names), steps, empty, np.zeros((0, count), bool))
    rows = [_ROWS.row(record, lens, count) for record in history]
    values = np.vstack([row for row, _ in rows])
    missing = np.vstack([absent for _, absent in rows])
    return Series(lens, tuple(names), steps, values, missing)


def grouped(data: Series, groups: Sequence[tuple[str, Sequence[int]]]) -> Series:
    """Rows combined per group, as lens.combine does one by one: root-sum-square of norms,
    root-mean-square of update ratios, the largest fraction; a bad value in a group shows."""
    if [list(members) for _, members in groups] == [[row] for row in range(data.rows)]:
        return Series(data.lens, tuple(label for label, _ in groups), data.steps, data.values, data.missing,
                      data.smoothed, data.low, data.high)
    columns, absent = [], []
    fraction = LENSES[data.lens].fraction
    for _, members in groups:
        index = list(members)
        sub, miss = data.values[:, index], data.missing[:, index]
        finite = np.isfinite(sub)
        bad = (~miss & ~finite).any(axis=1)
        clean = np.where(miss | ~finite, 0.0, sub)
        if fraction:
            combined = clean.max(axis=1)
        else:
            total = (clean * clean).sum(axis=1)
            if data.lens == UPDATE:
                total = total / np.maximum(1, (~miss).sum(axis=1))
            combined = np.sqrt(total)
        columns.append(np.where(bad, _first_bad(sub, miss), combined))
        absent.append(miss.all(axis=1))
    values = np.stack(columns, axis=1) if columns else np.empty((len(data.steps), 0))
    missing = np.stack(absent, axis=1) if absent else np.empty((len(data.steps), 0), bool)
    return Series(data.lens, tuple(label for label, _ in groups), data.steps, np.where(missing, np.nan, values),
                  missing)


def _first_bad(sub: np.ndarray, miss: np.ndarray) -> np.ndarray:
    """Per time, a non-finite value of the group (nan before ±inf), to show as bad."""
    bad = ~miss & ~np.isfinite(sub)
    out = np.full(sub.shape[0], np.nan)
    inf_only = bad.any(axis=1) & ~(bad & np.isnan(sub)).any(axis=1)
    out[inf_only] = np.inf
    return out


def smooth(data: Series, n: int) -> Series:
    """The exponential moving average over `n` records (α = 2/(n + 1)) of every row, with the raw
    values' min and max over the same span kept for a faint band; n ≤ 1 gives `data` itself."""
    if n <= 1 or not len(data.steps):
        return data
    alpha = 2.0 / (n + 1)
    gaps = np.diff(data.steps)
    unit = max(1, int(gaps[gaps > 0].min())) if (gaps > 0).any() else 1
    values, missing = data.values, data.missing
    out = np.array(values, dtype=np.float64)
    low, high = np.array(out), np.array(out)
    state = np.full(data.rows, np.nan)
    for t in range(len(data.steps)):
        records = 1 if t == 0 else max(1, int(round((data.steps[t] - data.steps[t - 1]) / unit)))
        keep = (1 - alpha) ** records
        x = values[t]
        good = ~missing[t] & np.isfinite(x)
        fresh = good & np.isnan(state)
        state = np.where(fresh, x, state)
        state = np.where(good & ~fresh, keep * state + (1 - keep) * x, state)
        out[t] = np.where(good, state, x)
        first = max(0, t - n + 1)
        window = values[first:t + 1]
        invalid = missing[first:t + 1] | ~np.isfinite(window)
        none = invalid.all(axis=0)
        low[t] = np.where(none, np.nan, np.where(invalid, np.inf, window).min(axis=0))
        high[t] = np.where(none, np.nan, np.where(invalid, -np.inf, window).max(axis=0))
    return Series(data.lens, data.names, data.steps, out, missing, n, low, high)


def panel_series(history: Sequence[StepRecord], spec, lens: str, *, fold: bool = False, smoothed: int = 0) -> Series:
    """What a panel draws: `history` through `lens`, repeated blocks folded if asked, smoothed
    over `smoothed` records if asked, its rows named as every view of the panel names them."""
    names = row_names(spec, lens)
    data = series(history, lens, names)
    if fold:
        data = grouped(data, fold_groups(names))
    data = smooth(data, smoothed)
    return Series(data.lens, short_names(data.names), data.steps, data.values, data.missing, data.smoothed,
                  data.low, data.high)
