"""The two lenses: s_l = ‖mean ∂C/∂b^l‖ (the book's) and ‖mean ∂C/∂W^l‖, on records and board views."""

import math

from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board
from vgrad.core.spec import parse_net
from vgrad.core.view.lens import BIAS, WEIGHT, first_to_last, lens_values, through_lens, view_through_lens

RECORD = StepRecord(net=0, epoch=3, step=3, speed=(0.001, 0.1), neurons=((0.0,), (0.0,)), cost=1.0,
                    weight_grad=(0.5, 0.25))
OLD = StepRecord(net=0, epoch=0, step=0, speed=(0.001, 0.1), neurons=((0.0,), (0.0,)), cost=1.0)


def test_the_weight_lens_reads_weight_grad_where_the_bias_lens_reads_speed():
    assert lens_values(RECORD, BIAS) == (0.001, 0.1)
    assert lens_values(RECORD, WEIGHT) == (0.5, 0.25)
    assert through_lens(RECORD, WEIGHT).speed == (0.5, 0.25)
    assert through_lens(RECORD, BIAS) is RECORD


def test_a_record_without_weight_grad_reads_nan_through_the_weight_lens():
    assert all(math.isnan(v) for v in lens_values(OLD, WEIGHT))
    assert first_to_last(OLD, WEIGHT) is None


def test_first_to_last_per_lens():
    assert first_to_last(RECORD, BIAS) == 0.01
    assert first_to_last(RECORD, WEIGHT) == 2.0


def test_a_board_view_through_the_weight_lens_keeps_states_and_version():
    board = Board((parse_net("4-3-3-2"),), total_epochs=5)
    board.publish(RECORD)
    view = board.snapshot()
    seen = view_through_lens(view, WEIGHT)
    assert seen.version == view.version and seen.nets[0].state == view.nets[0].state
    assert seen.nets[0].latest.speed == (0.5, 0.25)
    assert [r.speed for r in seen.nets[0].history] == [(0.5, 0.25)]
    assert view_through_lens(view, BIAS) is view


def test_a_layer_without_a_bias_gradient_gives_no_first_to_last_ratio():
    """A watched model's layer with no bias has no s_l (None): no ratio, not a TypeError."""
    for speed in ((None, 0.1), (0.001, None)):
        record = StepRecord(net=0, epoch=0, step=0, speed=speed, neurons=((), ()), cost=1.0)
        assert first_to_last(record, BIAS) is None
