"""Replay: feed a recorded run's step records into a Board, as the Runner would live.

Every net advances by the same number of records, so the panels show the same
epoch side by side; `rate` records per second per net at tempo 1, times the
tempo (the playback multiplier, +/-). A net that reaches its last record takes its final state from
the recording's events (done, diverged, error), or `stopped` for a run cut short.
"""

from __future__ import annotations

import threading

from vgrad.core.record.format import FINAL_EVENT_KINDS
from vgrad.core.record.reader import Recording
from vgrad.core.run.board import Board
from vgrad.core.run.ticker import Ticker
from vgrad.core.status import EndStatus, NetState

TEMPOS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
CUT_SHORT = "the recording stops here"


class Replayer:
    """Plays a Recording into a Board on its own thread; satisfies ReplayControls."""

    def __init__(self, recording: Recording, board: Board, *, rate: float = 60.0, fps: float = 30.0):
        self.recording = recording
        self.board = board
        self.rate = rate
        self.fps = fps
        self._steps = [recording.steps_of(net) for net in range(len(recording.specs))]
        self._final = _final_states(recording)
        self._lock = threading.RLock()
        self._ticker = Ticker(self.advance, 1.0 / fps, "vgrad-replay")
        self._position = 0
        self._credit = 0.0
        self._tempo_index = TEMPOS.index(1.0)
        self._shown: dict[int, NetState] = {}

    # where we are
    @property
    def length(self) -> int:
        """Records per net in the longest net's recording."""
        return max((len(steps) for steps in self._steps), default=0)

    @property
    def position(self) -> int:
        """Records shown per net so far."""
        return self._position

    @property
    def at_end(self) -> bool:
        return self._position >= self.length

    @property
    def tempo(self) -> float:
        return TEMPOS[self._tempo_index]

    @property
    def paused(self) -> bool:
        return self.board.paused

    # lifecycle
    def start(self) -> None:
        with self._lock:
            self._show_states()
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def join(self, timeout: float | None = None) -> bool:
        return self._ticker.join(timeout)

    @property
    def alive(self) -> bool:
        return self._ticker.alive

    # playback
    def advance(self, seconds: float) -> int:
        """Play `seconds` of wall time (nothing while paused); return the records added per net."""
        with self._lock:
            if self.board.paused or self.at_end:
                return 0
            self._credit += seconds * self.rate * self.tempo
            count = int(self._credit)
            self._credit -= count
            return self._seek(self._position + count)

    def _seek(self, target: int) -> int:
        target = min(target, self.length)
        start = self._position
        for index in range(start, target):
            for steps in self._steps:
                if index < len(steps):
                    self.board.publish(steps[index])
        self._position = max(start, target)
        self._show_states()
        return self._position - start

    def _show_states(self) -> None:
        for net, steps in enumerate(self._steps):
            if self._position >= len(steps):
                state, message = self._final.get(net, (NetState.STOPPED, CUT_SHORT))
            else:
                state, message = NetState.RUNNING, ""  # shown as paused while the board is
            if self._shown.get(net) != state:
                self.board.set_state(net, state, message)
                self._shown[net] = state

    def jump_start(self) -> None:
        with self._lock:
            self.board.reset()
            self._position = 0
            self._credit = 0.0
            self._shown.clear()
            self._show_states()

    def jump_end(self) -> None:
        with self._lock:
            self._seek(self.length)

    def restart(self) -> None:
        self.jump_start()

    def step(self) -> None:
        """While paused: show one more record of every net."""
        with self._lock:
            if self.board.paused:
                self._seek(self._position + 1)

    # pause and tempo
    def pause(self) -> None:
        self.board.set_paused(True)

    def resume(self) -> None:
        with self._lock:
            self._credit = 0.0
            self.board.set_paused(False)

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def faster(self) -> None:
        with self._lock:
            self._tempo_index = min(self._tempo_index + 1, len(TEMPOS) - 1)

    def slower(self) -> None:
        with self._lock:
            self._tempo_index = max(self._tempo_index - 1, 0)


def open_replay(recording: Recording) -> Replayer:
    """A Replayer of `recording` on a board of its own, showing the recording's warning (a run
    cut short, …) as a run-wide notice; nothing plays until it is started or moved."""
    board = Board(recording.specs, recording.config.n_epochs)
    if recording.warning:
        board.notice(recording.warning)
    return Replayer(recording, board)


def _final_states(recording: Recording) -> dict[int, tuple[NetState, str]]:
    """Each net's last event as (state, message); a net without one in a run that ended complete
    (a watched model's file writes no done event) is done."""
    final = {}
    if recording.end is not None and recording.end.status == EndStatus.COMPLETE:
        final = {net: (NetState.DONE, "") for net in range(len(recording.specs))}
    for event in recording.events:
        if event.kind in FINAL_EVENT_KINDS:
            final[event.net] = (NetState(event.kind), event.message or "")
    return final
