"""vgrad.tui: everything a person sees (CLI, dashboard, headless output)."""

import os
import sys


def main() -> None:
    """Console-script entry point `vgrad-tui`.

    Once the command has finished (workers joined, recordings closed, the terminal
    restored) the process leaves with os._exit: the interpreter's own teardown of numba,
    LLVM and the loaded modules took 0.4 s and has nothing left to save.
    """
    from vgrad.tui.cli import run_cli

    try:
        run_cli()
        code = 0
    except SystemExit as exit_:
        code = exit_status(exit_.code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)


def exit_status(code: object) -> int:
    """The status SystemExit(code) gives: None → 0, an int as is, anything else printed → 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
