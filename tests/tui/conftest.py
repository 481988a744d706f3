"""Dashboard test helpers: the CLI's replay app on the committed recordings, and a fake Controls."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

os.environ["TEXTUAL_ANIMATIONS"] = "none"

from vgrad.core.record.reader import read_run  # noqa: E402
from vgrad.core.run.board import Board  # noqa: E402
from vgrad.tui.app import VgradApp, make_replay_app  # noqa: E402

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _replay_app(name: str, *, paused_at: int | None = None) -> VgradApp:
    """The CLI's replay app on a committed recording, with no thread and no timer that could
    change it: at the recording's end, or paused after its first `paused_at` records per net."""
    app = make_replay_app(read_run(FIXTURES / name), name=name, autoplay=False)
    if paused_at is None:
        app.controls.jump_end()
    else:
        app.controls.pause()
        for _ in range(paused_at):
            app.controls.step()
    return app


class FakeControls:
    """Controls that only remember what they were asked (pausing sets the board's flag, as
    every real Controls does)."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.calls: list[str] = []

    @property
    def paused(self) -> bool:
        return self.board.paused

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def join(self, timeout: float | None = None) -> bool:
        self.calls.append("join")
        return True

    def toggle_pause(self) -> None:
        self.calls.append("toggle_pause")
        self.board.set_paused(not self.board.paused)

    def step(self) -> None:
        self.calls.append("step")

    def restart(self) -> None:
        self.calls.append("restart")


class FakeReplayControls(FakeControls):
    """FakeControls with the replay keys as well."""

    tempo = 1.0

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
def book3_board() -> Board:
    """A board holding the whole of book3.jsonl."""
    return _replay_app("book3.jsonl").board


@pytest.fixture
def fake(book3_board) -> FakeControls:
    return FakeControls(book3_board)


@pytest.fixture
def fake_replay(book3_board) -> FakeReplayControls:
    return FakeReplayControls(book3_board)


@pytest.fixture
def dashboard(book3_board) -> Callable[..., VgradApp]:
    """dashboard(controls, **options): the app on book3_board steered by `controls` (a fake),
    not started, so a test sees exactly the calls its keys make."""
    def build(controls, **options) -> VgradApp:
        return VgradApp(book3_board, controls, title="t", **{"start_controls": False, **options})
    return build
