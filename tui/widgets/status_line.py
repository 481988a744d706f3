"""A net's status: epoch e/E, cost C, test accuracy (sgd), steps/s and its state, with the reason."""

from __future__ import annotations

import textwrap

from textual.content import Content
from textual.reactive import reactive

from vgrad.core.run.board import NetView
from vgrad.core.status import NetState
from vgrad.core.view.summary import accuracy_text, epochs_done, number
from vgrad.tui.widgets.styled import StyledWidget

STATE_MARKS = {
    NetState.WAITING: "○ waiting", NetState.COMPILING: "◌ compiling kernels…", NetState.RUNNING: "● running",
    NetState.PAUSED: "❚❚ paused", NetState.DONE: "✔ done", NetState.DIVERGED: "✖ diverged",
    NetState.ERROR: "✖ error", NetState.STOPPED: "■ stopped", NetState.INTERRUPTED: "■ interrupted",
    NetState.SILENT: "◌ silent",
}
EXPLAINED = (NetState.WAITING, NetState.SILENT, NetState.DIVERGED, NetState.ERROR, NetState.STOPPED,
             NetState.INTERRUPTED)
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
    epoch = epochs_done(net.state, latest, total)
    progress = f"epoch {epoch:>{len(str(total))}}/{total}" if total else f"step {latest.step}"  # watched: no epochs
    parts = [progress, f"{'cost' if total else 'loss'} {number(latest.cost):<8}"]
    accuracy = last_accuracy(net)
    if accuracy is not None:
        parts.append(f"acc {accuracy_text(accuracy):>6}")
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


def status_lines(net: NetView, width: int, note: str = "") -> list[str]:
    """The readings and the state, packed to `width`, then the reason and the note wrapped below them."""
    below = [line for text in (reason(net), note) for line in textwrap.wrap(text, max(8, width))]
    return pack([*readings(net), state_text(net)], width) + below


class StatusLine(StyledWidget):
    """`epoch 120/500  cost 3.411  152 steps/s  ● running`, wrapped to the panel's width;
    repainted only when its text changes, laid out again only when its line count does."""

    DEFAULT_CSS = """
    StatusLine > .status-line--note {
        color: $warning;
    }
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

    COMPONENT_CLASSES = {"status-line--state", "status-line--note"}

    lines: reactive[tuple[str, ...]] = reactive(())

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.net: NetView | None = None
        self.note = ""

    @property
    def below(self) -> str:
        """What is wrapped under the readings (the reason, the note), one part a line, for the layout."""
        return "\n".join(part for part in ("" if self.net is None else reason(self.net), self.note) if part)

    def show(self, net: NetView, note: str = "") -> None:
        """Show `net`'s status, and `note` (why an sgd net stalls) wrapped under it."""
        old = None if self.net is None else self.net.state
        self.net = net
        self.note = note
        if net.state != old:
            self.set_class(False, f"-{old}")
            self.set_class(True, f"-{net.state}")
        self.lines = self._wrapped(self.size.width)

    def on_resize(self) -> None:
        self.lines = self._wrapped(self.size.width)

    def _wrapped(self, width: int) -> tuple[str, ...]:
        return () if self.net is None else tuple(status_lines(self.net, max(1, width), self.note))

    def watch_lines(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        if len(old) != len(new):
            self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self._wrapped(width)))

    def render(self) -> Content:
        """The readings plain, the state and its reason in the state's colour, the note in its own."""
        noted = len(textwrap.wrap(self.note, max(8, self.size.width))) if self.note else 0
        lines = list(self.lines)
        head, note = "\n".join(lines[:len(lines) - noted]), "\n".join(lines[len(lines) - noted:])
        start = -1 if self.net is None else head.rfind(state_text(self.net))
        state = self.component_style("status-line--state")
        parts: list = [head] if start < 0 else [head[:start], (head[start:], state)]
        if note:
            parts += ["\n", (note, self.component_style("status-line--note"))]
        return Content.assemble(*parts)
