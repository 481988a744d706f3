"""The dashboard on a live Runner: keys reach the controls at once while every net trains."""

import time

import pytest

from vgrad.core.run.board import Board
from vgrad.core.run.config import Config
from vgrad.core.run.runner import Runner
from vgrad.core.run.spec import parse_nets
from vgrad.tui.app import make_app

NETS = ["784-30-30-10", "784-30-30-30-10", "784-30-30-30-30-10"]


@pytest.fixture
def live(mnist):
    specs = tuple(spec.with_input(mnist.n_inputs, mnist.n_classes) for spec in parse_nets(NETS))
    config = Config(epochs=100_000)
    board = Board(specs, config.n_epochs)
    runner = Runner.for_training(specs, mnist, config, board)
    yield board, runner
    runner.stop()
    runner.join(5.0)


def timed(calls: list[float], method):
    def wrapper():
        calls.append(time.perf_counter())
        method()
    return wrapper


async def wait_for(pilot, condition, seconds: float = 5.0) -> None:
    start = time.perf_counter()
    while not condition():
        assert time.perf_counter() - start < seconds, "timed out"
        await pilot.pause(0.005)


def test_pause_step_resume_and_quit_while_training(live, drive):
    board, runner = live
    app = make_app(board, runner, title="live")
    called: list[float] = []
    runner.toggle_pause = timed(called, runner.toggle_pause)
    runner.step = timed(called, runner.step)
    latencies: list[float] = []

    def states():
        return {net.state for net in board.snapshot().nets}

    def steps():
        return [net.latest.step for net in board.snapshot().nets]

    async def scenario(pilot):
        async def press(key):
            start = time.perf_counter()
            await pilot.press(key)
            latencies.append(called[-1] - start)

        await wait_for(pilot, lambda: all(net.latest is not None for net in board.snapshot().nets))
        await press("space")
        assert states() == {"paused"} and app.view.nets[0].state == "paused"
        time.sleep(0.1)
        before = steps()
        for count in (1, 2):
            await press("n")
            await wait_for(pilot, lambda: steps() == [step + count for step in before])
        await press("space")
        assert states() == {"running"}
        await pilot.press("q")
    drive(app, scenario)
    assert not runner.alive
    print(f"key to controls while training: {', '.join(f'{t * 1e3:.1f}' for t in latencies)} ms")
    assert max(latencies) < 0.1
