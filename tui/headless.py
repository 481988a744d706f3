"""--no-ui: a rich progress bar per net while the runner works, then the final table.

It reads the same Board the dashboard polls. On a terminal that is not a TTY (output
piped to a file) rich writes no control codes and no live progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board, BoardView
from vgrad.core.view.lens import BIAS, LENSES, SYMBOLS, WEIGHT, lens_values
from vgrad.core.view.names import short_names
from vgrad.core.view.summary import (
    UNDEFINED,
    NetSummary,
    accuracy_text,
    epoch_progress,
    epochs_done,
    headline_for,
    number,
    speed_text,
    summarise,
)

TABLE_LAYERS = 12          # a deeper net's table lists its first and last layers, and says how many between
TABLE_NAME_LIMIT = 32      # columns of a layer's name in the table (a panel row has NAME_LIMIT)

POLL_SECONDS = 0.1
MIN_TABLE_WIDTH = 60


@contextmanager
def phase(console: Console, text: str) -> Iterator[Callable[[str], None]]:
    """A spinner saying `text` on a terminal; piped (a log, CI), one plain line per phase instead,
    so a long command never looks stalled. Yields update(text) for the next phase."""
    if console.is_terminal:
        with console.status(text) as status:
            yield lambda new: status.update(new)
        return
    said = [text]
    console.print(text, markup=False, highlight=False, soft_wrap=True)

    def update(new: str) -> None:
        if new != said[-1]:
            said.append(new)
            console.print(new, markup=False, highlight=False, soft_wrap=True)
    yield update


@contextmanager
def counted(console: Console, text: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over `total` jobs on a terminal; piped, `text` and then a line at each
    tenth done ("30/60 done"). Yields progress(done, total)."""
    if console.is_terminal:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(text, total=total)
            yield lambda done, total: progress.update(task, completed=done)
        return
    console.print(text, markup=False, highlight=False, soft_wrap=True)
    step = max(1, total // 10)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            console.print(f"{done}/{total} done", highlight=False)
    yield progress


def follow_progress(board: Board, runner, console: Console) -> None:
    """Show progress until every worker has ended (KeyboardInterrupt propagates to the caller):
    per net its epochs, steps per second and the live headline h1:hk = 1:N. Piped, only the last
    frame is printed: its time columns (0:00:00 left) are dropped so the line fits."""
    view = board.snapshot()
    times = (TimeElapsedColumn(), TimeRemainingColumn()) if console.is_terminal else ()
    columns = (TextColumn("{task.description}"), BarColumn(bar_width=20), TextColumn("{task.fields[epochs]}"),
               TextColumn("{task.fields[headline]}"), TextColumn("{task.fields[rate]}"), *times)
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = [progress.add_task(net.spec.label, total=net.total_epochs, rate="", epochs="", headline="")
                 for net in view.nets]
        while True:
            alive = runner.alive
            view = board.snapshot()
            for task, net in zip(tasks, view.nets):
                rate = f"{net.steps_per_second:,.0f} steps/s" if net.steps_per_second else net.state
                progress.update(task, completed=epochs_done(net.state, net.latest, net.total_epochs), rate=rate,
                                epochs=epoch_progress(net.state, net.latest, net.total_epochs),
                                headline=headline_for(net.spec, net.latest))
            if not alive:
                break
            runner.join(POLL_SECONDS)  # wakes as soon as the last worker ends


def summary_tables(view: BoardView, mode: str) -> list[Table]:
    """A table per net: s_l per hidden layer at the first and the last record, the headline
    h1:hk = 1:N at both (and the same through the weight lens), cost, and test accuracy (sgd)."""
    return [_net_table(summarise(net), net, mode) for net in view.nets]


def _net_table(summary: NetSummary, net, mode: str) -> Table:
    """Titled by the whole spec, then state · epoch e/E · headline on a line of its own, each line
    kept whole (the table is at least as wide as its title lines)."""
    first, last = summary.first, summary.last
    state = summary.state + (f": {summary.message}" if summary.message else "")
    details = " · ".join(part for part in (state, summary.progress, summary.headline) if part)
    title_lines = (summary.label, details)
    table = Table(title="\n".join(title_lines), title_justify="left",
                  min_width=max(MIN_TABLE_WIDTH, *(len(line) for line in title_lines)))
    lens = summary.lens     # a bias-free model's table reads ‖∂C/∂W‖
    symbol = LENSES[lens].symbol
    records = [first] if last is None or last is first else [first, last]   # --epochs 0: one measurement
    watched = net.spec.hidden_layers != net.spec.layer_names    # a watched model's last layer is its output
    table.add_column("layer" if watched else "hidden layer")
    for index, record in enumerate(records):
        when = UNDEFINED if record is None else measured_when(record, watched)
        table.add_column(f"{symbol} {when}" if index == 0 else when, justify="right")
    names = short_names(net.spec.layer_names, TABLE_NAME_LIMIT)
    hidden = net.spec.hidden
    listed = range(hidden) if hidden <= TABLE_LAYERS else [*range(TABLE_LAYERS // 2), *range(hidden - 3, hidden)]
    for row, layer in enumerate(listed):
        if hidden > TABLE_LAYERS and row == TABLE_LAYERS // 2:
            table.add_row(f"… {hidden - len(listed)} more", *("" for _ in records))
        table.add_row(names[layer], *(_value(record, layer, lens) for record in records),
                      end_section=layer == hidden - 1)
    for each in (BIAS, WEIGHT):   # a lens no record has (a bias-free model's s_l) gets no row
        sides = [headline_for(net.spec, record, each).partition(" = ") for record in records]
        pair = next((left for left, _, _ in reversed(sides) if left), None)
        if pair is not None:
            table.add_row(pair if each == BIAS else f"{SYMBOLS[WEIGHT]} {pair}",
                          *(right or UNDEFINED for _, _, right in sides))
    table.add_row("cost", *(number(record.cost) if record else UNDEFINED for record in records))
    if watched:          # a watched model's run: how much of it was read
        table.add_row("records read", *("" for _ in records[1:]), f"{net.records:,}")
    if mode == "sgd":
        table.add_row("test accuracy", *(accuracy_text(record.accuracy if record else None) for record in records))
    return table


def measured_when(record: StepRecord, watched: bool = False) -> str:
    """When a measurement was taken, counted as the dashboard counts `epoch e/E` (epochs trained):
    "at init", "after 500 epochs" (speed mode measures once more after its last step), "after step
    1200" inside an sgd epoch; a watched model's run, which has no epochs, "at step 1200"."""
    if watched:
        return f"at step {record.step}"
    if record.step == 0:
        return "at init"
    if record.step == record.epoch or record.accuracy is not None:    # speed mode, or an sgd epoch's end
        return f"after {record.epoch} epoch{'s' if record.epoch != 1 else ''}"
    return f"after step {record.step}"


def _value(record, layer: int, lens: str = BIAS) -> str:
    values = None if record is None else lens_values(record, lens)
    return UNDEFINED if values is None else speed_text(values[layer])
