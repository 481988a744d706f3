"""`vgrad-tui watch`: the dashboard, or one line per record, on run files other processes write.

The app is the live dashboard fed by a FollowRunner instead of a Runner; it swaps a panel
when its file starts a run of another model, and titles each watched panel with its
headline (first layer : last layer). Headless, each new record is one line, like `tail -f`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board, BoardView
from vgrad.core.run.follow_runner import WRITER_GONE, FollowRunner
from vgrad.core.status import ExitCode
from vgrad.core.subject import Subject
from vgrad.core.text import printable
from vgrad.core.view.lens import default_lens, lens_values, named
from vgrad.core.view.summary import accuracy_text, headline_for, number, speed_text
from vgrad.tui.app import VgradApp, run_dashboard
from vgrad.tui.console import stderr_console
from vgrad.tui.widgets import NetPanel

WAIT_SECONDS = 0.1    # how often the headless loop checks whether every writer has ended


def record_line(path: Path, record: StepRecord, spec: Subject) -> str:
    """`run.jsonl  step 120  loss 0.412  conv 1.20e-03 … head 0.310  conv → fc = 1:258`: the
    headline compares the hidden layers (a watched model's last layer is its output)."""
    names = spec.layer_names
    parts = [printable(path.name), f"step {record.step}"]
    if record.epoch:
        parts.append(f"epoch {record.epoch}")
    parts.append(f"{spec.cost_name} {number(record.cost)}")
    if record.accuracy is not None:
        parts.append(f"acc {accuracy_text(record.accuracy)}")
    lens = default_lens(spec, (record,))
    values = lens_values(record, lens) or record.speed
    parts.append(named(" ".join(f"{name} {speed_text(value)}" for name, value in zip(names, values)), lens))
    line = headline_for(spec, record, lens)
    return "  ".join([*parts, line] if line else parts)


def follow_lines(runner: FollowRunner, emit: Callable[[str], None], wait=time.sleep,
                 note: Callable[[str], None] = lambda text: None) -> int:
    """Print each new record until every writer has ended (0, or 2 when a file failed), or Ctrl+C
    (130); `note` (stderr) says once which files are waited for and when each appears, so a wait
    never looks like a hang, and once, in one line naming it, why a file cannot be followed."""
    runner.listener = lambda path, record, spec: emit(record_line(path, record, spec))
    waited: set[Path] = set()
    failed: set[Path] = set()
    told_gone: set[Path] = set()
    empty: set[Path] = set()
    try:
        while True:
            runner.poll()
            for file in runner.files:
                if file.follower.failure is not None:
                    if file.path not in failed:
                        failed.add(file.path)
                        note(f"vgrad-tui: error: {file.follower.failure}")
                    continue
                failed.discard(file.path)      # replaced by a file that reads: followed again
                if not file.follower.exists and file.path not in waited:
                    waited.add(file.path)
                    note(f"waiting for {file.path} (it does not exist yet; Ctrl+C to stop)")
                elif file.follower.exists and file.path in waited:
                    waited.discard(file.path)
                    note(f"{file.path} appeared: following it")
                elif file.follower.exists and file.follower.parser is None and file.path not in empty:
                    empty.add(file.path)
                    note(f"waiting for the first line of {file.path} (it is empty; Ctrl+C to stop)")
            for file in runner.files:
                if file.gone and file.path not in told_gone:
                    told_gone.add(file.path)
                    note(f"{file.path}: " + (WRITER_GONE if file.follower.parser is not None
                                             else "empty, and no writer holds it"))
            if runner.all_ended:
                return ExitCode.USAGE if failed else ExitCode.OK
            wait(WAIT_SECONDS)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


class WatchApp(VgradApp):
    """The dashboard over followed files: a panel is rebuilt when its file's model changes."""

    watching = True

    def __init__(self, board: Board, runner: FollowRunner, **options) -> None:
        super().__init__(board, runner, **options)
        self._built = 0

    def _draw(self, view: BoardView) -> None:
        fresh = self._swap_panels(view)
        super()._draw(view)
        if fresh:
            self.call_after_refresh(lambda: self._arrange(self.size))

    def _swap_panels(self, view: BoardView) -> bool:
        """Replace each panel whose net's spec changed (a new model in its file)."""
        swapped = False
        for index, net in enumerate(view.nets):
            old = self.panels[index]
            if old.spec == net.spec or not old.is_attached:
                continue
            self._built += 1
            new = NetPanel(net.spec, id=f"net-{index}-{self._built}")
            new.look(lens=self.lens, fold=self.fold, smoothed=self.smoothed, include_output=self.include_output)
            old.parent.mount(new, after=old)
            old.remove()
            self.panels[index] = new
            swapped = True
        return swapped


def make_watch_app(board: Board, runner: FollowRunner, *, title: str, subtitle: str = "",
                   start_controls: bool = True, smooth: int = 0) -> WatchApp:
    """The dashboard following `runner`'s files (the CLI's and the snapshot tests' factory)."""
    return WatchApp(board, runner, title=title, subtitle=subtitle, start_controls=start_controls, smooth=smooth)


def run_watch(board: Board, runner: FollowRunner, *, title: str, smooth: int = 0,
              summary: Callable[[BoardView], None] = lambda view: None) -> int:
    """Run the watch dashboard until the user quits, then hand the board's last view to `summary`
    (the CLI prints the table replay prints); its exit status (130 after Ctrl+C, 2 when a file
    could not be followed: each such file's reason is printed in one line once it closes)."""
    code = run_dashboard(make_watch_app(board, runner, title=title, smooth=smooth))
    summary(board.snapshot())
    failures = [file.follower.failure for file in runner.files if file.follower.failure is not None]
    for failure in [*failures, *([runner.crash] if runner.crash else [])]:
        stderr_console().print(f"vgrad-tui: error: {failure}")
    if code != ExitCode.OK:
        return code
    return ExitCode.FAILED if runner.crash else ExitCode.USAGE if failures else code
