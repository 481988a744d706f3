"""The runner: one thread per net, pause/step/stop, and faults that stay in their net."""

import itertools
import threading
import time

import pytest

from vgrad.core.config import Config
from vgrad.core.record.format import run_header
from vgrad.core.record.reader import read_run
from vgrad.core.record.step import StepRecord
from vgrad.core.record.writer import JsonlRecorder
from vgrad.core.run.board import Board
from vgrad.core.run.runner import Runner
from vgrad.core.spec import parse_net
from vgrad.core.status import EndStatus, NetState

SPECS = (parse_net("784-30-30-10"), parse_net("784-30-30-30-10"))


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def counting_source(stop_after=None, fail_net=None, nan_net=None):
    def source(index):
        for epoch in itertools.count():
            if stop_after is not None and epoch >= stop_after:
                return
            if index == fail_net and epoch == 3:
                raise RuntimeError("boom")
            speed = (float("nan"), 1.0) if index == nan_net and epoch == 2 else (0.1, 1.0)
            yield StepRecord(net=index, epoch=epoch, step=epoch, speed=speed, neurons=((0.0,) * 6,) * 2,
                             cost=1.0)
            time.sleep(0.001)
    return source


def test_runs_every_net_to_done_and_records_it(mnist, tmp_path):
    board = Board(SPECS, total_epochs=5)
    header = run_header(SPECS, Config(epochs=5), mnist.name, mnist.sizes())
    recorder = JsonlRecorder(tmp_path / "run.jsonl", header)
    runner = Runner.for_training(SPECS, mnist, Config(epochs=5), board, (recorder,))
    runner.start()
    assert runner.join(timeout=60)
    recorder.end("complete", 1.0)
    view = board.snapshot()
    assert [net.state for net in view.nets] == ["done", "done"]
    assert [net.latest.epoch for net in view.nets] == [5, 5]   # measured after the last step
    recording = read_run(tmp_path / "run.jsonl")
    assert recording.warning is None and len(recording.steps) == 2 * 6
    assert sorted(e.net for e in recording.events if e.kind == "done") == [0, 1]


def test_pause_holds_every_net_and_step_advances_each_by_one():
    board = Board(SPECS, total_epochs=10**6)
    runner = Runner(SPECS, board, counting_source())
    runner.pause()
    runner.start()
    time.sleep(0.2)
    assert all(net.latest is None for net in board.snapshot().nets)
    assert all(net.state == "paused" for net in board.snapshot().nets)
    runner.step()
    wait_until(lambda: all(net.latest is not None for net in board.snapshot().nets))
    time.sleep(0.1)
    assert [net.latest.epoch for net in board.snapshot().nets] == [0, 0]
    runner.resume()
    wait_until(lambda: all(net.latest.epoch > 5 for net in board.snapshot().nets))
    runner.stop()
    assert runner.join(timeout=5)
    assert all(net.state == "stopped" for net in board.snapshot().nets)


def test_an_exception_stops_only_its_net():
    board = Board(SPECS, total_epochs=8)
    runner = Runner(SPECS, board, counting_source(stop_after=8, fail_net=0))
    runner.start()
    assert runner.join(timeout=5)
    first, second = board.snapshot().nets
    assert first.state == "error" and "RuntimeError: boom" in first.message
    assert "boom" in runner.errors[0]
    assert second.state == "done" and second.latest.epoch == 7


def test_a_non_finite_record_marks_its_net_diverged():
    board = Board(SPECS, total_epochs=8)
    runner = Runner(SPECS, board, counting_source(stop_after=8, nan_net=1))
    runner.start()
    assert runner.join(timeout=5)
    first, second = board.snapshot().nets
    assert second.state == "diverged" and "epoch 2" in second.message
    assert first.state == "done"


def test_restart_begins_again_from_the_first_record():
    board = Board(SPECS, total_epochs=10**6)
    runner = Runner(SPECS, board, counting_source())
    runner.start()
    wait_until(lambda: all(net.latest and net.latest.epoch > 20 for net in board.snapshot().nets))
    runner.pause()
    runner.restart()
    time.sleep(0.1)
    assert all(net.latest is None for net in board.snapshot().nets)
    runner.step()
    wait_until(lambda: all(net.latest is not None for net in board.snapshot().nets))
    assert [net.history[0].epoch for net in board.snapshot().nets] == [0, 0]
    runner.stop()
    runner.join(timeout=5)


def test_a_restart_is_recorded_so_the_file_says_why_epochs_start_again(tmp_path):
    specs = (parse_net("784-30-30-10"),) * 2  # as deep as counting_source's records
    header = run_header(specs, Config(epochs=10**6), "mnist", {})
    recorder = JsonlRecorder(tmp_path / "run.jsonl", header)
    runner = Runner(specs, Board(specs, total_epochs=10**6), counting_source(), sinks=(recorder,))
    runner.start()
    wait_until(lambda: all(net.latest and net.latest.epoch > 5 for net in runner.board.snapshot().nets))
    runner.restart()
    wait_until(lambda: all(net.latest and net.latest.epoch > 2 for net in runner.board.snapshot().nets))
    runner.stop()
    runner.join(timeout=5)
    recorder.end(EndStatus.STOPPED, 0.0)
    recording = read_run(tmp_path / "run.jsonl")
    assert recording.warning is None and recording.restarts == len(specs)
    assert all(recording.steps_of(net)[0].epoch == 0 for net in range(len(specs)))


@pytest.mark.parametrize("paused", [False, True])
def test_stop_ends_workers_promptly(paused):
    board = Board(SPECS, total_epochs=10**6)
    runner = Runner(SPECS, board, counting_source())
    if paused:
        runner.pause()
    runner.start()
    time.sleep(0.05)
    runner.stop()
    assert runner.join(timeout=2)


@pytest.fixture
def python_ctrl_c():
    """Python's own Ctrl+C handler for one test, even when pytest started with SIGINT ignored
    (`pytest &` in a script): the signal was then dropped and a test waiting for it hung."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_waiting_for_the_workers_still_leaves_every_net_stopped(python_ctrl_c):
    """Ctrl+C landing in join(timeout) (the headless progress loop) must not make a running
    worker look ended: after stop and join every net shows its final state."""
    import os
    import signal
    import threading

    for attempt in range(5):
        board = Board(SPECS, total_epochs=10_000)
        runner = Runner(SPECS, board, counting_source())
        runner.start()
        threading.Timer(0.05 + 0.02 * attempt, os.kill, (os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            while runner.alive:
                runner.join(0.1)
        runner.stop()
        assert runner.join(timeout=10)
        assert [net.state for net in board.snapshot().nets] == ["stopped", "stopped"]


def compile_threads():
    return [thread for thread in threading.enumerate() if thread.name == "vgrad-compile"]


def test_every_net_shows_compiling_until_the_kernels_are_ready():
    ready = threading.Event()
    board = Board(SPECS, total_epochs=3)
    runner = Runner(SPECS, board, counting_source(stop_after=3), prepare=ready.wait)
    runner.start()
    assert [net.state for net in board.snapshot().nets] == ["compiling", "compiling"]
    assert not runner.join(timeout=0.05) and all(net.latest is None for net in board.snapshot().nets)
    ready.set()
    assert runner.join(timeout=5)
    assert [net.state for net in board.snapshot().nets] == ["done", "done"]


def test_stop_while_compiling_ends_the_run_at_once_and_nothing_starts_after():
    """q during the cold compile: no wait for numba, and no net trains once it finishes."""
    ready = threading.Event()
    board = Board(SPECS, total_epochs=3)
    runner = Runner(SPECS, board, counting_source(stop_after=3), prepare=ready.wait)
    runner.start()
    runner.stop()
    assert runner.join(timeout=0) and not runner.alive
    assert [net.state for net in board.snapshot().nets] == ["stopped", "stopped"]
    ready.set()
    for thread in compile_threads():
        thread.join(5)
    assert [net.state for net in board.snapshot().nets] == ["stopped", "stopped"]
    assert all(net.latest is None for net in board.snapshot().nets)


def test_a_failed_compile_is_an_error_on_every_net_and_in_the_recording(tmp_path):
    def broken() -> None:
        raise RuntimeError("no LLVM today")

    board = Board(SPECS, total_epochs=3)
    header = run_header(SPECS, Config(epochs=3), "mnist", {})
    recorder = JsonlRecorder(tmp_path / "run.jsonl", header)
    runner = Runner(SPECS, board, counting_source(stop_after=3), (recorder,), prepare=broken)
    runner.start()
    assert runner.join(timeout=5)
    recorder.end(EndStatus.COMPLETE, 0.0)
    assert {net.state for net in board.snapshot().nets} == {NetState.ERROR}
    assert "no LLVM today" in board.snapshot().nets[0].message and "RuntimeError" in runner.errors[1]
    events = read_run(tmp_path / "run.jsonl").events
    assert [(event.net, event.kind) for event in events] == [(0, "error"), (1, "error")]


def test_a_sink_that_fails_becomes_a_notice_and_training_goes_on():
    full = "writing run.jsonl failed: No space left on device; training goes on"

    class FullDisk:
        failure: str | None = None

        def step(self, record: StepRecord) -> None:
            self.failure = full

        def event(self, net, kind, **info) -> None: ...

        def end(self, status, elapsed) -> None: ...

    board = Board(SPECS, total_epochs=3)
    runner = Runner(SPECS, board, counting_source(stop_after=3), (FullDisk(),))
    runner.start()
    assert runner.join(timeout=5)
    view = board.snapshot()
    assert view.notices == (full,)
    assert [net.state for net in view.nets] == ["done", "done"]
