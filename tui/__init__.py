"""vgrad.tui: everything a person sees (CLI, dashboard, headless output)."""

import codecs
import os
import sys
import unicodedata

ASCII = {"σ": "s", "δ": "d", "η": "eta", "λ": "lambda", "∂": "d", "‖": "|", "–": "-", "—": "-", "…": "...",
         "×": "x", "≥": ">=", "≤": "<=", "′": "'", "→": "->", "·": "*", "Σ": "sum", "≈": "~", "−": "-",
         "━": "-", "─": "-", "│": "|", "█": "#", "▏": "|", "⠋": "*"}


def main() -> None:
    """Console-script entry point `vgrad-tui`.

    Once the command has finished (workers joined, recordings closed, the terminal
    restored) the process leaves with os._exit: the interpreter's own teardown of numba,
    LLVM and the loaded modules took 0.4 s and has nothing left to save.
    """
    _standard_streams()
    from vgrad.core.status import ExitCode
    from vgrad.tui.cli import run_cli

    try:
        run_cli()
        code = 0
    except SystemExit as exit_:
        code = exit_status(exit_.code)
        if _typer_caught_ctrl_c(exit_):  # a command without its own handling (reproduce, bench, plot)
            print("vgrad-tui: interrupted", file=sys.stderr)
    except KeyboardInterrupt:  # before a run's own handling starts (parsing, loading data)
        print("vgrad-tui: interrupted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, SystemExit):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)


def _typer_caught_ctrl_c(exit_: SystemExit) -> bool:
    """Whether typer turned a KeyboardInterrupt into this exit (its `Exit(130) from` the interrupt),
    which it does without a word."""
    typer_exit = exit_.__context__  # click raised this SystemExit while handling typer's Exit
    return typer_exit is not None and isinstance(typer_exit.__cause__, KeyboardInterrupt)


def exit_status(code: object) -> int:
    """The status SystemExit(code) gives: None → 0, an int as is, anything else printed → 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _standard_streams() -> None:
    """Make stdin, stdout and stderr safe to use, whatever the caller left: a closed descriptor
    becomes /dev/null (else the first file opened, a recording, would take its number and get the
    output), text the encoding cannot hold becomes ASCII, and a closed pipe exits with 141."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    codecs.register_error("vgrad-ascii", _to_ascii)
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:
            stream = open(fd, "w", closefd=False)
        try:
            stream.reconfigure(errors="vgrad-ascii")
        except (AttributeError, ValueError):
            pass
        setattr(sys, name, _PipeGuard(stream) if name == "stdout" else stream)
    if sys.stdin is None:
        sys.stdin = open(0, closefd=False)


def _to_ascii(error: UnicodeEncodeError) -> tuple[str, int]:
    """codecs error handler: an ASCII spelling of what an ASCII or Latin-1 stream cannot encode."""
    text = error.object[error.start:error.end]
    spelled = "".join(ASCII.get(char) or unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
                      or "?" for char in text)
    return spelled, error.end


class _PipeGuard:
    """stdout, leaving with 141 when its reader went away (`--help | true`), and with one line and
    exit 1 when it cannot be written (a full disk, a dropped terminal), wherever the write comes
    from (click's and rich's own handlers would exit with 1 after a traceback)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._closed()
        except OSError as error:
            self._failed(error)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._closed()
        except OSError as error:
            self._failed(error)

    def _closed(self):
        from vgrad.core.status import ExitCode

        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        raise SystemExit(ExitCode.CLOSED_PIPE)

    def _failed(self, error: OSError):
        from vgrad.core.status import ExitCode

        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)   # what is still buffered goes nowhere, quietly
        try:
            print(f"vgrad-tui: error: cannot write to stdout ({error.strerror or error})", file=sys.stderr)
        except OSError:
            pass
        raise SystemExit(ExitCode.FAILED)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
