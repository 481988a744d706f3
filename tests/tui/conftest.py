"""Dashboard test helpers: boards filled from the committed recordings, and a fake Controls."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

os.environ["TEXTUAL_ANIMATIONS"] = "none"

from vgrad.core.record.reader import read_run  # noqa: E402
from vgrad.core.record.replay import Replayer  # noqa: E402
from vgrad.core.run.board import Board  # noqa: E402
from vgrad.tui.app import VgradApp, make_app  # noqa: E402

FIXTURES = Path(__file__).parents[1] / "fixtures"


def replayed(name: str, *, paused_at: int | None = None) -> tuple[Board, Replayer]:
    """A board holding the whole recording (or, paused, its first `paused_at` records per net)."""
    recording = read_run(FIXTURES / name)
    board = Board(recording.specs, recording.config.n_epochs)
    replayer = Replayer(recording, board)
    if paused_at is None:
        replayer.jump_end()
    else:
        replayer.pause()
        for _ in range(paused_at):
            replayer.step()
    return board, replayer


def _replay_app(name: str, **options) -> VgradApp:
    """The CLI's app on a fixed recording, with no thread and no timer that could change it."""
    board, replayer = replayed(name, **options)
    return make_app(board, replayer, title="vgrad", subtitle=name, start_controls=False)


class FakeControls:
    """Controls that only remember what they were asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def join(self, timeout: float | None = None) -> bool:
        self.calls.append("join")
        return True

    def toggle_pause(self) -> None:
        self.calls.append("toggle_pause")
        self._paused = not self._paused

    def step(self) -> None:
        self.calls.append("step")

    def restart(self) -> None:
        self.calls.append("restart")


class FakeReplayControls(FakeControls):
    """FakeControls with the replay keys as well."""

    speed = 1.0

    def faster(self) -> None:
        self.calls.append("faster")

    def slower(self) -> None:
        self.calls.append("slower")

    def jump_start(self) -> None:
        self.calls.append("jump_start")

    def jump_end(self) -> None:
        self.calls.append("jump_end")


def _drive(app: VgradApp, scenario: Callable, size: tuple[int, int] = (120, 40)) -> None:
    """Run `scenario(pilot)` against the app in a headless terminal of `size`."""
    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await scenario(pilot)
    asyncio.run(run())


@pytest.fixture
def replay_app() -> Callable[..., VgradApp]:
    """replay_app("book3.jsonl", paused_at=None): the app on a committed recording."""
    return _replay_app


@pytest.fixture
def drive() -> Callable[[VgradApp, Callable[..., Awaitable[None]]], None]:
    """drive(app, scenario, size): run an async pilot scenario (no asyncio plugin needed)."""
    return _drive


@pytest.fixture
def fake() -> FakeControls:
    return FakeControls()


@pytest.fixture
def fake_replay() -> FakeReplayControls:
    return FakeReplayControls()


@pytest.fixture
def book3_board() -> Board:
    return replayed("book3.jsonl")[0]
