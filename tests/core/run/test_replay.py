"""Replaying a recorded run into a Board: rate, tempo, pause/step, jumps and final states."""

import time
from pathlib import Path

import pytest

from vgrad.core.record.reader import read_run
from vgrad.core.run.board import Board
from vgrad.core.run.controls import Controls, ReplayControls
from vgrad.core.run.replay import CUT_SHORT, TEMPOS, Replayer
from vgrad.core.run.runner import Runner

FIXTURES = Path(__file__).parents[2] / "fixtures"


def replayer(name: str = "book3.jsonl", **options) -> tuple[Replayer, Board]:
    recording = read_run(FIXTURES / name)
    board = Board(recording.specs, recording.config.n_epochs)
    return Replayer(recording, board, **options), board


def test_both_producers_satisfy_the_controls_protocols():
    replay, board = replayer()
    assert isinstance(replay, ReplayControls)
    runner = Runner(board=board, specs=replay.recording.specs, source=lambda i: iter(()))
    assert isinstance(runner, Controls)
    assert not isinstance(runner, ReplayControls)


def test_jump_end_shows_every_record_and_the_final_states():
    replay, board = replayer()
    replay.jump_end()
    view = board.snapshot()
    recording = replay.recording
    for net in view.nets:
        assert net.state == "done"
        assert net.latest == recording.steps_of(net.index)[-1]
        assert len(net.history) == len(recording.steps_of(net.index))
    assert replay.at_end


def test_a_diverged_net_stops_early_with_its_reason():
    replay, board = replayer("diverged2.jsonl")
    replay.jump_end()
    sigmoid, leaky = board.snapshot().nets
    assert sigmoid.state == "done"
    assert leaky.state == "diverged"
    assert "non-finite" in leaky.message
    assert not leaky.latest.is_finite
    assert len(leaky.history) < len(sigmoid.history)


def test_advance_plays_rate_times_tempo_records_per_second():
    replay, board = replayer(rate=10.0)
    assert replay.advance(0.5) == 5
    assert [net.latest.step for net in board.snapshot().nets] == [4, 4, 4]
    replay.faster()
    assert replay.tempo == 2.0
    assert replay.advance(0.5) == 10
    replay.slower()
    replay.slower()
    assert replay.tempo == 0.5
    assert replay.advance(0.1) == 0
    assert replay.advance(0.1) == 1  # fractions carry over


def test_tempo_stays_within_its_ladder():
    replay, _ = replayer()
    for _ in range(20):
        replay.faster()
    assert replay.tempo == TEMPOS[-1]
    for _ in range(20):
        replay.slower()
    assert replay.tempo == TEMPOS[0]


def test_pause_holds_and_step_adds_exactly_one_record():
    replay, board = replayer(rate=100.0)
    replay.step()
    assert replay.position == 0  # stepping needs a pause first
    replay.toggle_pause()
    assert replay.paused
    assert replay.advance(1.0) == 0
    replay.step()
    replay.step()
    view = board.snapshot()
    assert replay.position == 2
    assert {net.state for net in view.nets} == {"paused"}
    replay.toggle_pause()
    assert {net.state for net in board.snapshot().nets} == {"running"}


def test_jump_start_and_restart_empty_the_board():
    replay, board = replayer()
    replay.jump_end()
    replay.jump_start()
    view = board.snapshot()
    assert replay.position == 0
    assert all(net.latest is None and net.state == "running" for net in view.nets)
    replay.jump_end()
    replay.restart()
    assert board.snapshot().nets[0].latest is None


def test_a_run_cut_short_ends_its_nets_as_stopped(tmp_path):
    lines = (FIXTURES / "book3.jsonl").read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:31]) + "\n")
    recording = read_run(cut)
    assert recording.warning
    board = Board(recording.specs, recording.config.n_epochs)
    replay = Replayer(recording, board)
    replay.jump_end()
    assert {(net.state, net.message) for net in board.snapshot().nets} == {("stopped", CUT_SHORT)}


def test_the_thread_plays_to_the_end_and_stops():
    replay, board = replayer(rate=5000.0, fps=100.0)
    replay.start()
    deadline = time.monotonic() + 5.0
    while not board.snapshot().finished and time.monotonic() < deadline:
        time.sleep(0.01)
    replay.stop()
    assert replay.join(1.0)
    assert board.snapshot().finished
    assert replay.at_end


@pytest.mark.parametrize("name", ["book3.jsonl", "remedies4.jsonl", "sgd2.jsonl", "diverged2.jsonl"])
def test_fixture_recordings_are_small_and_complete(name):
    path = FIXTURES / name
    assert path.stat().st_size < 200_000
    assert read_run(path).warning is None
