"""A net's status: epoch e/E, cost C, test accuracy (sgd), steps/s and its state, with the reason."""

from __future__ import annotations

import textwrap

from textual.content import Content
from textual.reactive import reactive

from vgrad.core.run.board import NetView
from vgrad.core.status import NetState
from vgrad.tui.widgets.formatting import short
from vgrad.tui.widgets.styled import StyledWidget

STATE_MARKS = {
    NetState.WAITING: "○ waiting", NetState.COMPILING: "◌ compiling kernels…", NetState.RUNNING: "● running",
    NetState.PAUSED: "❚❚ paused", NetState.DONE: "✔ done", NetState.DIVERGED: "✖ diverged",
    NetState.ERROR: "✖ error", NetState.STOPPED: "■ stopped", NetState.SILENT: "◌ silent",
}
EXPLAINED = (NetState.WAITING, NetState.SILENT, NetState.DIVERGED, NetState.ERROR, NetState.STOPPED)
GAP = "  "


def last_accuracy(net: NetView) -> float | None:
    """The newest test accuracy in the history (sgd records it at epoch ends only)."""
    for record in reversed(net.history):
        if record.accuracy is not None:
            return record.accuracy
    return None


def readings(net: NetView) -> list[str]:
    """The numeric parts of the status, in reading order, each padded to its usual widest so
    the status neither jitters nor re-wraps while a net runs."""
    latest = net.latest
    if latest is None:
        return []
    total = net.total_epochs
    epoch = total if net.state is NetState.DONE else latest.epoch
    progress = f"epoch {epoch:>{len(str(total))}}/{total}" if total else f"step {latest.step}"  # watched: no epochs
    parts = [progress, f"{'cost' if total else 'loss'} {short(latest.cost):<6}"]
    accuracy = last_accuracy(net)
    if accuracy is not None:
        parts.append(f"acc {accuracy:>6.1%}")
    if net.state is NetState.RUNNING and net.steps_per_second > 0:
        parts.append(f"{net.steps_per_second:>4.0f} steps/s")
    return parts


def state_text(net: NetView) -> str:
    return STATE_MARKS.get(net.state, net.state)


def reason(net: NetView) -> str:
    """Why a net stopped (diverged, error, stopped) or waits (a watched file not there yet, silent), or ""."""
    return net.message if net.state in EXPLAINED else ""


def pack(parts: list[str], width: int) -> list[str]:
    """Parts joined by two spaces, a new line where the next would not fit."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(GAP) + len(part) <= width:
            lines[-1] += GAP + part
        else:
            lines.append(part)
    return [line.rstrip() for line in lines]


def status_lines(net: NetView, width: int) -> list[str]:
    """The readings and the state, packed to `width`, then the reason wrapped below them."""
    return pack([*readings(net), state_text(net)], width) + textwrap.wrap(reason(net), max(8, width))


class StatusLine(StyledWidget):
    """`epoch 120/500  cost 3.411  152 steps/s  ● running`, wrapped to the panel's width;
    repainted only when its text changes, laid out again only when its line count does."""

    DEFAULT_CSS = """
    StatusLine > .status-line--state {
        text-style: bold;
    }
    StatusLine.-running > .status-line--state, StatusLine.-done > .status-line--state {
        color: $success;
    }
    StatusLine.-paused > .status-line--state {
        color: $warning;
    }
    StatusLine.-diverged > .status-line--state, StatusLine.-error > .status-line--state {
        color: $error;
    }
    StatusLine.-compiling > .status-line--state, StatusLine.-waiting > .status-line--state {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"status-line--state"}

    lines: reactive[tuple[str, ...]] = reactive(())

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.net: NetView | None = None

    def show(self, net: NetView) -> None:
        old = None if self.net is None else self.net.state
        self.net = net
        if net.state != old:
            self.set_class(False, f"-{old}")
            self.set_class(True, f"-{net.state}")
        self.lines = self._wrapped(self.size.width)

    def on_resize(self) -> None:
        self.lines = self._wrapped(self.size.width)

    def _wrapped(self, width: int) -> tuple[str, ...]:
        return () if self.net is None else tuple(status_lines(self.net, max(1, width)))

    def watch_lines(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        if len(old) != len(new):
            self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self._wrapped(width)))

    def render(self) -> Content:
        plain = "\n".join(self.lines)
        start = -1 if self.net is None else plain.rfind(state_text(self.net))
        if start < 0:
            return Content(plain)
        return Content.assemble(plain[:start], (plain[start:], self.component_style("status-line--state")))
