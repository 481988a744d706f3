"""The dashboard on a live Runner: keys reach the controls at once while every net trains or compiles."""

import threading
import time

import pytest

from vgrad.core.config import Config
from vgrad.core.run.board import Board
from vgrad.core.run.runner import Runner
from vgrad.core.run.session import Session, open_session
from vgrad.core.spec import parse_nets
from vgrad.tui.app import make_live_app
from vgrad.tui.widgets import StatusLine

NETS = ["64-4-4-10", "64-4-4-4-10", "64-4-4-4-4-10"]  # three nets training on digits: tiny and quick


@pytest.fixture
def live(digits):
    specs = tuple(spec.with_input(digits.n_inputs, digits.n_classes) for spec in parse_nets(NETS))
    session = open_session(specs, digits, Config(epochs=100_000))
    yield session
    session.runner.stop()
    session.runner.join(5.0)


def counted(calls: list[str], method):
    def wrapper():
        calls.append(method.__name__)
        method()
    return wrapper


async def wait_for(pilot, condition, seconds: float = 60.0) -> None:
    """Poll until condition() holds; the deadline only keeps a broken build from hanging."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.005)


@pytest.mark.slow  # one long app session: the full suite runs it
def test_pause_step_resume_and_quit_while_training(live, drive):
    board, runner = live.board, live.runner
    app = make_live_app(live)
    called: list[str] = []
    runner.toggle_pause = counted(called, runner.toggle_pause)
    runner.step = counted(called, runner.step)

    def states():
        return {net.state for net in board.snapshot().nets}

    def steps():
        return [net.latest.step for net in board.snapshot().nets]

    async def scenario(pilot):
        async def press(key, control):
            """The key reaches the runner's control before the press returns: no queue in between."""
            before = len(called)
            await pilot.press(key)
            assert called[before:] == [control]

        await wait_for(pilot, lambda: all(net.latest is not None for net in board.snapshot().nets))
        await press("space", "toggle_pause")
        assert states() == {"paused"} and app.view.nets[0].state == "paused"
        time.sleep(0.1)
        before = steps()
        for count in (1, 2):
            await press("n", "step")
            await wait_for(pilot, lambda count=count: steps() == [step + count for step in before])
        await press("space", "toggle_pause")
        assert states() == {"running"}
        await pilot.press("q")
    drive(app, scenario)
    assert not runner.alive
    assert called == ["toggle_pause", "step", "step", "toggle_pause"]


def test_q_while_the_kernels_compile_quits_without_waiting_for_them(drive):
    """The panels say the kernels compile; q ends the run at once, the compile still going."""
    ready = threading.Event()
    specs = parse_nets(["4-3-3-2", "4-3-2"])
    board = Board(specs, total_epochs=10)
    runner = Runner(specs, board, source=lambda index: iter(()), prepare=ready.wait)
    app = make_live_app(Session(specs, Config(), "digits", board, runner))

    async def scenario(pilot):
        await wait_for(pilot, lambda: {net.state for net in app.view.nets} == {"compiling"})
        assert "compiling" in str(app.query(StatusLine).first().render())
        await pilot.press("q")
    drive(app, scenario)
    assert not ready.is_set() and not runner.alive
    assert {net.state for net in board.snapshot().nets} == {"stopped"}
    ready.set()
