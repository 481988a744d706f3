"""The board keeps the newest record and a bounded, downsampled history per net."""

import pytest

from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board
from vgrad.core.spec import parse_net
from vgrad.core.status import NetState


def record(net, epoch):
    return StepRecord(net=net, epoch=epoch, step=epoch, speed=(0.1, 0.2), neurons=((0.0,) * 6,) * 2, cost=1.0)


def test_publish_updates_latest_and_version():
    board = Board((parse_net("4-3-3-2"),), total_epochs=10)
    before = board.snapshot()
    board.publish(record(0, 0))
    after = board.snapshot()
    assert after.version > before.version
    assert after.nets[0].latest.epoch == 0 and len(after.nets[0].history) == 1


def test_history_stays_bounded_and_keeps_first_and_latest():
    board = Board((parse_net("4-3-3-2"),), total_epochs=100_000, capacity=64)
    for epoch in range(10_000):
        board.publish(record(0, epoch))
    history = board.snapshot().nets[0].history
    assert len(history) <= 65
    assert history[0].epoch == 0 and history[-1].epoch == 9_999
    epochs = [r.epoch for r in history]
    assert epochs == sorted(epochs)


def test_states_and_reset():
    board = Board((parse_net("4-3-3-2"), parse_net("4-3-3-2")), total_epochs=10)
    board.publish(record(1, 0))
    board.set_state(1, "diverged", "nan at epoch 0")
    view = board.snapshot()
    assert view.nets[1].state == "diverged" and view.nets[1].message == "nan at epoch 0"
    assert not view.finished
    board.reset()
    assert board.snapshot().nets[1].latest is None


def test_pausing_is_the_boards_alone_and_shows_running_nets_as_paused():
    board = Board((parse_net("4-3-3-2"), parse_net("4-3-3-2")), total_epochs=10)
    board.set_state(0, NetState.RUNNING)
    board.set_state(1, NetState.DONE)
    before = board.snapshot()
    board.set_paused(True)
    view = board.snapshot()
    assert view.paused and board.paused and view.version > before.version
    assert [net.state for net in view.nets] == [NetState.PAUSED, NetState.DONE]
    board.set_paused(False)
    assert [net.state for net in board.snapshot().nets] == ["running", "done"]


def test_a_net_cannot_be_set_paused_by_itself():
    board = Board((parse_net("4-3-3-2"),), total_epochs=10)
    with pytest.raises(AssertionError):
        board.set_state(0, NetState.PAUSED)
    with pytest.raises(ValueError):
        board.set_state(0, "asleep")
