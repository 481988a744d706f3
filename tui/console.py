"""How the CLI writes: a rich Console that survives closed pipes and tiny terminals, one-line
errors with exit code 2, JSON documents, and the check for a terminal."""

from __future__ import annotations

import json
import os
import sys

import typer
from rich.console import Console

from vgrad.core.status import ExitCode
from vgrad.core.text import printable


class SafeConsole(Console):
    """rich's Console, leaving with ExitCode.CLOSED_PIPE instead of 1 when stdout's reader went away
    (`| head`): that is not a failure of the run, whose records are all written by then."""

    MIN_WIDTH = 40  # narrower (COLUMNS=1, a 1×1 terminal) and rich's tables cannot be laid out

    def __init__(self, **options) -> None:
        super().__init__(**options)
        if self.width < self.MIN_WIDTH:
            self.width = self.MIN_WIDTH

    def render_str(self, text: str, **options):
        """Every string printed: control characters escaped (printable), line breaks kept, so no
        name or path from a file can move the cursor, retitle or clear the terminal."""
        if not text.isprintable():
            text = "\n".join(map(printable, text.split("\n")))
        return super().render_str(text, **options)

    def on_broken_pipe(self) -> None:
        self.quiet = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(ExitCode.CLOSED_PIPE)


def fail(message: str) -> None:
    """One line on stderr, exit code 2; a path or name in it shown, never obeyed (printable)."""
    try:
        typer.echo(f"vgrad-tui: error: {printable(message)}", err=True)
    except OSError:  # stderr gone or full: the exit code still says it
        pass
    raise typer.Exit(ExitCode.USAGE)


def stderr_console() -> SafeConsole:
    """Warnings and notes: their text (paths, names, a file's messages) is plain, never markup."""
    return SafeConsole(stderr=True, markup=False, highlight=False, soft_wrap=True)   # one line per warning


def plain_console() -> SafeConsole:
    """stdout for tables and lines holding names from files: no markup, so `[bold]` in a name is text."""
    return SafeConsole(markup=False)


def print_json(document: dict) -> None:
    """One JSON document on stdout, as is (no wrapping or highlighting), through SafeConsole so
    that a closed pipe ends the command as every other output does."""
    SafeConsole().out(json.dumps(document, indent=2), highlight=False)


def on_a_terminal() -> bool:
    """stdin and stdout are both a terminal (either may be closed: None)."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def headless_unless_terminal(no_ui: bool) -> bool:
    """--no-ui, or True with a note when stdin or stdout is not a terminal (piped, a script,
    CI): the dashboard would write screen codes into the pipe and wait for keys forever."""
    if no_ui or on_a_terminal():
        return no_ui
    stderr_console().print("not a terminal: running headless, as with --no-ui")
    return True
