"""What the dashboard may ask of whatever fills the board: a live Runner or a Replayer.

The UI only reads the Board and calls these; it never trains. Runner satisfies
Controls as it is; Replayer adds the playback keys of ReplayControls.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Controls(Protocol):
    """Start, stop, pause and single-step the producers of step records."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> bool: ...

    def toggle_pause(self) -> None: ...

    def step(self) -> None: ...

    def restart(self) -> None: ...

    @property
    def paused(self) -> bool:
        """Whether the run is paused: read from the board, the one place it is held."""
        ...


@runtime_checkable
class ReplayControls(Controls, Protocol):
    """Playback of a recorded run: its tempo (a multiplier, +/-) and jumps to either end."""

    @property
    def tempo(self) -> float: ...

    def faster(self) -> None: ...

    def slower(self) -> None: ...

    def jump_start(self) -> None: ...

    def jump_end(self) -> None: ...
