"""SIGINT, SIGTERM and SIGHUP turned into one KeyboardInterrupt, so a run always ends whole."""

from __future__ import annotations

import signal

from vgrad.core.status import ExitCode


class Signals:
    """SIGINT, SIGTERM and SIGHUP as KeyboardInterrupt, once: a second signal (two Ctrl+C 1 ms
    apart) is ignored, so it cannot cut short the end line and the summary."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.caught = False
        self.code = ExitCode.INTERRUPTED
        self.before: dict[int, object] = {}

    def handle(self, signum, frame) -> None:
        if self.caught:
            return
        self.caught = True
        self.code = ExitCode.HANGUP if signum == getattr(signal, "SIGHUP", None) else ExitCode.INTERRUPTED
        raise KeyboardInterrupt

    def install(self) -> None:
        for name in self.SIGNALS:
            try:
                previous = signal.signal(getattr(signal, name), self.handle)
                self.before.setdefault(getattr(signal, name), previous)
            except (AttributeError, ValueError):  # no such signal here, or not the main thread (tests)
                pass

    def restore(self) -> None:
        """The handlers from before (in-process callers, such as tests, get theirs back)."""
        for signum, previous in self.before.items():
            signal.signal(signum, previous)


def signals_as_interrupt() -> Signals:
    signals = Signals()
    signals.install()
    return signals
