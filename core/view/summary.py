"""How a run's figures read, in one place for the dashboard, the headless table and the plot:
the headline h1:hk = 1:N (the first hidden layer learns 1/N as fast as the last, N = s_k/s_1),
s_l, cost and accuracy as text, the epochs done, and the end-of-run summary of a net."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vgrad.core.lab.book import ACCURACY_EXPERIMENT, BOOK_ACCURACIES
from vgrad.core.record.step import StepRecord
from vgrad.core.status import NetState
from vgrad.core.view.lens import BIAS, lens_values

if TYPE_CHECKING:
    from vgrad.core.run.board import NetView

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
    """A factor ≥ 1 in a ratio: 4.9, 124, 1.2e5."""
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
    layer names ("conv1:fc") when given."""
    return f"{names[0]}:{names[-1]}" if names else f"h1:h{layers}"


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
    line = None if record is None else headline(lens_values(record, lens), names)
    return "" if line is None else line.text


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
    if total <= 0 and latest is not None and latest.step > 0:
        return f"step {latest.step}"
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

    @property
    def accuracy(self) -> float | None:
        return self.last.accuracy if self.last is not None else None

    @property
    def progress(self) -> str:
        return epoch_progress(self.state, self.last, self.total_epochs)

    @property
    def headline(self) -> str:
        """The headline at the last record ("" for one hidden layer or no record)."""
        return headline_text(self.last, names=self.names or None)


def summarise(view: NetView) -> NetSummary:
    """Summary of one board NetView."""
    return NetSummary(label=view.spec.label, state=view.state,
                      first=view.history[0] if view.history else None, last=view.latest,
                      total_epochs=view.total_epochs, message=view.message, names=view.spec.layer_names)
