"""--no-ui: a rich progress bar per net while the runner works, then the final table.

It reads the same Board the dashboard polls. On a terminal that is not a TTY (output
piped to a file) rich writes no control codes and no live progress.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from vgrad.core.run.board import Board, BoardView
from vgrad.core.run.summary import summarise

POLL_SECONDS = 0.1


def follow_progress(board: Board, runner, console: Console) -> None:
    """Show progress until every worker has ended (KeyboardInterrupt propagates to the caller)."""
    view = board.snapshot()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("epochs"), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = [progress.add_task(net.spec.label, total=net.total_epochs, rate="") for net in view.nets]
        while True:
            alive = runner.alive
            view = board.snapshot()
            for task, net in zip(tasks, view.nets):
                done = 0 if net.latest is None else net.latest.epoch + (net.state == "done")
                rate = f"{net.steps_per_second:,.0f} steps/s" if net.steps_per_second else net.state
                progress.update(task, completed=min(done, net.total_epochs), rate=rate)
            if not alive:
                break
            runner.join(POLL_SECONDS)  # wakes as soon as the last worker ends


def format_speed(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def summary_tables(view: BoardView, mode: str) -> list[Table]:
    """A table per net: s_l at the first and last epoch per hidden layer, s_1/s_k and the same
    ratio through the weight lens, cost, accuracy (sgd)."""
    return [_net_table(summarise(net), net, mode) for net in view.nets]


def _net_table(summary, net, mode: str) -> Table:
    first, last = summary.first, summary.last
    epochs = "no epochs" if last is None else f"epochs {first.epoch}–{last.epoch}"
    state = summary.state + (f": {summary.message}" if summary.message else "")
    table = Table(title=f"{summary.label}  ({state}, {epochs})", title_justify="left", min_width=60)
    table.add_column("hidden layer")
    table.add_column("s_l first", justify="right")
    table.add_column("s_l last", justify="right")
    for layer in range(net.spec.hidden):
        table.add_row(f"h{layer + 1}", format_speed(first.speed[layer] if first else None),
                      format_speed(last.speed[layer] if last else None),
                      end_section=layer == net.spec.hidden - 1)
    if net.spec.hidden > 1:  # with one hidden layer the ratio is 1 by definition
        first_ratio, last_ratio = summary.first_to_last_ratio
        table.add_row(f"s_1/s_{net.spec.hidden}", format_speed(first_ratio), format_speed(last_ratio))
        first_ratio, last_ratio = summary.weight_first_to_last_ratio
        table.add_row(f"‖∂C/∂W‖ h1/h{net.spec.hidden}", format_speed(first_ratio), format_speed(last_ratio))
    table.add_row("cost", format_speed(first.cost if first else None), format_speed(last.cost if last else None))
    if mode == "sgd":
        table.add_row("test accuracy", _percent(first.accuracy if first else None), _percent(summary.accuracy))
    return table


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"
