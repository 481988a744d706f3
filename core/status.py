"""Every status vgrad names, in one place: a net's state, how a run ended, the process's exit code.

The states and end statuses are `str` enums: they compare equal to their words ("running"),
format as them, and are written to the run file as them.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class _Word(str, Enum):
    """A str enum that prints as its word (Python 3.10's str mix-in printed "Class.NAME")."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class NetState(_Word):
    """Where one net is. A board derives PAUSED (a running net while the run is paused); a
    net's last event in a run file is one of DONE, DIVERGED, ERROR."""

    WAITING = "waiting"        # its worker has not started
    COMPILING = "compiling"    # the kernels compile (or load from numba's cache) before any step
    RUNNING = "running"
    SILENT = "silent"          # a followed file's writer has written nothing for a while (watch)
    PAUSED = "paused"
    DONE = "done"              # every epoch trained
    DIVERGED = "diverged"      # a non-finite value stopped it
    ERROR = "error"            # its worker raised
    STOPPED = "stopped"        # stopped before the end (quit, restart, a recording cut short)
    INTERRUPTED = "interrupted"  # a recording whose run Ctrl+C or a signal ended (its end line says so)

    @classmethod
    def cut_short(cls, end_status: object) -> NetState:
        """The state of a net a run file leaves without a final event: interrupted when the file
        ends "interrupted", else stopped (quit, or a file that just stops)."""
        return cls.INTERRUPTED if end_status == EndStatus.INTERRUPTED else cls.STOPPED

    @property
    def final(self) -> bool:
        """It will not change again until a restart."""
        return self in FINAL_STATES

    @property
    def problem(self) -> bool:
        """It ended badly: diverged or error."""
        return self in (NetState.DIVERGED, NetState.ERROR)


FINAL_STATES = frozenset({NetState.DONE, NetState.DIVERGED, NetState.ERROR, NetState.STOPPED, NetState.INTERRUPTED})


class EndStatus(_Word):
    """How a run ended, as its file's last line says."""

    COMPLETE = "complete"          # every net reached a final state by itself
    STOPPED = "stopped"            # the user quit before the end
    INTERRUPTED = "interrupted"    # Ctrl+C or SIGTERM


class ExitCode(IntEnum):
    """The process's exit status."""

    OK = 0
    FAILED = 1           # a net's worker failed, a recording is incomplete, an internal error, a wrong result
    USAGE = 2            # bad usage or input, with a one-line reason
    HANGUP = 129         # 128 + SIGHUP: the terminal went away (an SSH drop); what was measured is kept
    INTERRUPTED = 130    # 128 + SIGINT: Ctrl+C, SIGINT or SIGTERM; what was measured is kept
    CLOSED_PIPE = 141    # 128 + SIGPIPE, as `yes | head -1` gives: the reader of stdout went away
