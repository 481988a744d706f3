"""How a run's figures read, in one place for the dashboard, the headless table and the plot:
the headline h1:hk = 1:N (the first hidden layer learns 1/N as fast as the last, N = s_k/s_1),
s_l, cost and accuracy as text, the epochs done, and the end-of-run summary of a net."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vgrad.core.lab.book import ACCURACY_EXPERIMENT, BOOK_ACCURACIES
from vgrad.core.record.step import StepRecord
from vgrad.core.status import NetState
from vgrad.core.view.lens import (
    BIAS,
    LENSES,
    SATURATION,
    default_lens,
    lens_values,
    named,
    outside_band,
    power,
    row_names,
)
from vgrad.core.view.names import short_names

if TYPE_CHECKING:
    from vgrad.core.run.board import NetView
    from vgrad.core.subject import Subject

CHANCE_ACCURACY = 0.2    # test accuracy at or under this after an epoch: no better than guessing (10 %)
ZERO_FLOOR = 1e-12       # |s_l| below this is underflow (σ'(z) ≈ 0), not a speed: written "≈0"
NEAR_ZERO = "≈0"
UNDEFINED = "—"


def number(value: float | None) -> str:
    """s_l or a cost: 3 significant digits (0.283, 0.00135, 3.03, 124), scientific below 1e-3
    and from 1e4 on (8.34e-04, 4.10e+04); "nan", "inf", "0" as such; "—" for None (not measured)."""
    if value is None:
        return UNDEFINED
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if not 1e-3 <= abs(value) < 1e4:
        return f"{value:.2e}"
    text = f"{value:#.3g}"
    return text[:-1] if text.endswith(".") else text


def speed_text(value: float | None) -> str:
    """s_l as text: number(), but "≈0" for 0 < |s_l| < ZERO_FLOOR (underflow)."""
    return NEAR_ZERO if value is not None and 0 < abs(value) < ZERO_FLOOR else number(value)


def value_text(value: float | None, lens: str = BIAS) -> str:
    """A value through `lens`: speed_text, or a fraction as a percentage (42%, 0.3%)."""
    if not LENSES[lens].fraction or value is None or not math.isfinite(value):
        return speed_text(value)
    return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"


def accuracy_text(value: float | None) -> str:
    """Test accuracy with one decimal, 96.5% (1000 test images: steps of 0.1 %); "—" if none."""
    return UNDEFINED if value is None else f"{value:.1%}"


def steps_per_epoch(history: Iterable[StepRecord]) -> float | None:
    """Parameter updates per epoch, read off the records (the smallest step/epoch, as an epoch-end
    record is exact); None until an epoch has ended."""
    return min((record.step / record.epoch for record in history if record.epoch > 0), default=None)


def is_near_zero(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and abs(value) < ZERO_FLOOR


def factor(value: float) -> str:
    """A factor ≥ 1 in a ratio, one format everywhere (headline, gains, tables): 4.9, 124, 1.2e5."""
    if value < 10:
        return f"{value:.1f}"
    if value < 1e4:
        return f"{round(value)}"
    return f"{value:.1e}".replace("e+0", "e").replace("e+", "e")


@dataclass(frozen=True)
class Headline:
    """How much slower the first hidden layer learns than the last: ratio = s_1/s_k."""

    layers: int              # k, the number of hidden layers
    ratio: float | None      # s_1/s_k; None when undefined (nan/inf, or s_k ≈ 0)
    text: str                # "h1:h4 = 1:124"


def layer_pair(layers: int, names: Sequence[str] | None = None) -> str:
    """The headline's left side, "h1:h4" for 4 hidden layers; a watched model's first and last
    hidden layers by name, "conv1 → fc" (never "0:6", which reads as a time)."""
    if not names:
        return f"h1:h{layers}"
    if all(re.fullmatch(r"h\d+", name) for name in (names[0], names[-1])):
        return f"{names[0]}:{names[-1]}"
    return f"{names[0]} → {names[-1]}"


def headline(speed: Sequence[float | None], names: Sequence[str] | None = None) -> Headline | None:
    """`h1:h4 = 1:124` for s_1 = s_4/124, `h1:h4 = 25:1` when the first layer is the faster one;
    ≈0 for a side under ZERO_FLOOR, — when a side is nan/inf. None for a single hidden layer."""
    if len(speed) < 2:
        return None
    first, last = speed[0], speed[-1]
    pair = layer_pair(len(speed), names) + " = "
    if first is None or last is None or not (math.isfinite(first) and math.isfinite(last)):
        return Headline(len(speed), None, pair + UNDEFINED)
    if is_near_zero(first) or is_near_zero(last):
        sides = [speed_text(v) if is_near_zero(v) else "1" for v in (first, last)]
        ratio = first / last if not is_near_zero(last) else None
        return Headline(len(speed), ratio, pair + ":".join(sides))
    ratio = first / last
    text = f"1:{factor(1 / ratio)}" if ratio <= 1 else f"{factor(ratio)}:1"
    return Headline(len(speed), ratio, pair + text)


def headline_text(record: StepRecord | None, lens: str = BIAS, names: Sequence[str] | None = None) -> str:
    """The headline of a record through `lens` (s_l, or ‖∂C/∂W^l‖), or "" (no record yet, or one
    hidden layer); `names` the layers' (a watched model's), else h1 … hk."""
    values = None if record is None else lens_values(record, lens)
    line = None if values is None else headline(values, names)
    return "" if line is None else line.text


def hidden_rows(spec: Subject, lens: str, count: int, include_output: bool = False) -> range:
    """The rows the headline compares: the subject's hidden layers (a built-in net's speeds are
    its hidden layers already; a watched model's last layer is its output layer, left out unless
    asked: the book compares hidden layers); the saturation lens's rows are activations, all."""
    if lens == SATURATION or include_output or count <= 1:
        return range(count)
    return range(min(count, max(1, len(spec.hidden_layers))))


def compared_rows(spec: Subject, values: Sequence[float | None], lens: str, include_output: bool = False) -> list[int]:
    """hidden_rows that have a value in `values`: a mixed model's headline compares its first and
    last hidden layers that have a bias (or weights), never one that has none ("—")."""
    return [i for i in hidden_rows(spec, lens, len(values), include_output) if values[i] is not None]


def headline_of(values: Sequence[float | None], names: Sequence[str], lens: str = BIAS, smoothed: int = 0) -> str:
    """The headline of one net's newest `values` (its headline rows, named): first against last
    (`h1:h4 = 1:124`, `0 → 6 = 1:101`); the update ratio adds the layers outside its healthy band;
    a fraction lens names its worst row (`worst h3: 42%`). Says when the values are smoothed."""
    if LENSES[lens].fraction:
        measured = [(value, name) for value, name in zip(values, names) if value is not None and math.isfinite(value)]
        if not measured:
            return ""
        worst, name = max(measured, key=lambda pair: pair[0])
        text = f"worst {name}: {value_text(worst, lens)}"
    else:
        line = headline(values, names)
        if line is None:
            return ""
        text = line.text
        band = LENSES[lens].band
        outside = sum(outside_band(value, lens) for value in values)
        if band is not None and outside:
            text += f" · {outside} outside {power(band[0])}…{power(band[1])}"
    return text + (f" · EMA {smoothed}" if smoothed > 1 else "")


def headline_for(spec: Subject, record: StepRecord | None, lens: str = BIAS,
                 include_output: bool = False) -> str:
    """The headline of `record` for a net of `spec`, its rows named as every view names them."""
    if record is None:
        return ""
    values = lens_values(record, lens)
    if values is None:
        return ""
    names = short_names(row_names(spec, lens))
    rows = compared_rows(spec, values, lens, include_output)
    return headline_of([values[i] for i in rows], [names[i] for i in rows if i < len(names)], lens)


def smoothed_headline(history: Sequence[StepRecord], spec: Subject, lens: str = BIAS,
                      smoothed: int = 0, include_output: bool = False) -> str:
    """headline_for on the newest record, or, smoothed over N records, on the moving averages of the
    rows it compares (and says so)."""
    if smoothed <= 1 or not history:
        return headline_for(spec, history[-1] if history else None, lens, include_output)
    from vgrad.core.view.series import grouped, series, smooth

    values = lens_values(history[-1], lens)
    if values is None:
        return ""
    names = short_names(row_names(spec, lens))
    rows = compared_rows(spec, values, lens, include_output)
    if not rows:
        return ""
    if not LENSES[lens].fraction and LENSES[lens].band is None:
        rows = sorted({rows[0], rows[-1]})      # only the two it compares need averaging
    data = series(history, lens, row_names(spec, lens))
    latest = smooth(grouped(data, [(names[i], (i,)) for i in rows]), smoothed).latest()
    return headline_of(list(latest), [names[i] for i in rows], lens, smoothed)


def book_accuracy(hidden: int) -> float | None:
    """The book's accuracy (%) for its net with `hidden` hidden layers (30 neurons each)."""
    return next((value for spec, value in BOOK_ACCURACIES if spec.count("-") - 1 == hidden), None)


def stall_note(history: Sequence[StepRecord], hidden: int, batch_size: int | None,
               names: Sequence[str] | None = None) -> str:
    """Why an sgd net (or a watched model logging accuracy) is still at chance after training a
    while, and for a built-in net how to reach the book's accuracy; "" while it is learning (or in
    speed mode, which measures no accuracy). The ratio is the newest record's, as the panel's
    border gives it; the training images are counted from the records: steps per epoch × batch."""
    last = next((record for record in reversed(history) if record.accuracy is not None), None)
    watched = bool(history) and all(record.epoch == 0 for record in history)   # a watched model counts steps
    if (last is None or last.accuracy is None or last.accuracy > CHANCE_ACCURACY
            or (last.step < 1 if watched else last.epoch < 1)):
        return ""
    when = f"{last.step:,} steps" if watched else f"{last.epoch} epochs"
    words = [f"{accuracy_text(last.accuracy)} after {when} is chance:"]
    line = headline(history[-1].speed, names)
    if line is not None and line.ratio is not None and line.ratio < 1:
        first, deepest = (names[0], names[-1]) if names else ("h1", f"h{hidden}")
        words.append(f"{first} learns 1/{factor(1 / line.ratio)} as fast as {deepest} (vanishing gradient)")
    if watched:
        return " ".join(words).rstrip(":") + "."
    per_epoch = steps_per_epoch(history)
    if batch_size and per_epoch:
        words.append(f"and {round(per_epoch * batch_size):,} images are few;")
    else:
        words.append("and the images are few;")
    book = book_accuracy(hidden)
    if book is not None:
        words.append(f"the book gets {book:.1f}% in {ACCURACY_EXPERIMENT['epochs']} epochs on "
                     f"{ACCURACY_EXPERIMENT['train_images']:,}: --data PATH (full MNIST).")
    return " ".join(words)


def epochs_done(state: str, latest: StepRecord | None, total: int) -> int:
    """Epochs trained: all of them once a net is done (a file recorded before speed mode measured
    after its last step ends at epoch E − 1), else the epoch of the newest record."""
    if state == NetState.DONE:
        return total
    return 0 if latest is None else latest.epoch


def epoch_progress(state: str, latest: StepRecord | None, total: int) -> str:
    """`epoch 120/500`, the same words in the dashboard, the table and the plot; `step 1200` for a
    watched model's run, whose length is not known (total 0)."""
    if total <= 0:
        return "no record yet" if latest is None else f"step {latest.step}"
    return f"epoch {epochs_done(state, latest, total)}/{total}"


@dataclass(frozen=True)
class NetSummary:
    label: str
    state: str
    first: StepRecord | None
    last: StepRecord | None
    total_epochs: int
    message: str = ""
    names: tuple[str, ...] = ()       # the layers' names (h1 … hk, or a watched model's)
    spec: Subject | None = None
    lens: str = BIAS                  # the lens the net opens on (a bias-free model's: weight)

    @property
    def accuracy(self) -> float | None:
        return self.last.accuracy if self.last is not None else None

    @property
    def progress(self) -> str:
        return epoch_progress(self.state, self.last, self.total_epochs)

    @property
    def headline(self) -> str:
        """The headline at the last record ("" for one hidden layer or no record)."""
        if self.spec is not None:
            return named(headline_for(self.spec, self.last, self.lens), self.lens)
        return headline_text(self.last, names=self.names or None)


def summarise(view: NetView) -> NetSummary:
    """Summary of one board NetView."""
    return NetSummary(label=view.spec.label, state=view.state,
                      first=view.history[0] if view.history else None, last=view.latest,
                      total_epochs=view.total_epochs, message=view.message, names=view.spec.layer_names,
                      spec=view.spec, lens=default_lens(view.spec, view.history[:1]))
