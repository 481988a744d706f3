"""How a run's figures read: the headline h1:hk = 1:N, one number format for s_l and cost, one
for accuracy, and epochs done, the same for the dashboard, the headless table and the plot."""

import math

import pytest

from vgrad.core.record.step import StepRecord
from vgrad.core.view.summary import (
    accuracy_text,
    epoch_progress,
    epochs_done,
    headline,
    headline_text,
    number,
    speed_text,
    stall_note,
)


@pytest.mark.parametrize("speed, text, ratio", [
    ((1.35e-5, 4.08e-5, 2.7e-4, 1.674e-3), "h1:h4 = 1:124", 1.35e-5 / 1.674e-3),
    ((0.0657, 0.309), "h1:h2 = 1:4.7", 0.0657 / 0.309),
    ((3.2e-3, 1.5e-4, 8e-6, 1.28e-7), "h1:h4 = 2.5e4:1", 3.2e-3 / 1.28e-7),  # exploding: h1 faster
    ((6.9e-17, 3.6e-18, 2.8e-19, 1.05e-13), "h1:h4 = ≈0:≈0", None),          # underflow both ends
    ((0.0, 0.0, 0.0, 0.0), "h1:h4 = 0:0", None),
    ((1e-20, 0.5), "h1:h2 = ≈0:1", 2e-20),
    ((math.nan, 0.5), "h1:h2 = —", None),
])
def test_the_headline_says_how_much_slower_the_first_layer_learns(speed, text, ratio):
    line = headline(speed)
    assert line.text == text and line.layers == len(speed)
    assert line.ratio == (None if ratio is None else pytest.approx(ratio))


def test_one_hidden_layer_has_no_headline():
    assert headline((0.3,)) is None
    assert headline_text(None) == ""


@pytest.mark.parametrize("value, text", [
    (0.283, "0.283"), (0.012, "0.0120"), (1.35e-3, "0.00135"), (8.34e-4, "8.34e-04"), (3.0259, "3.03"),
    (124.4, "124"), (4.098e4, "4.10e+04"), (0.0, "0"), (math.nan, "nan"), (math.inf, "inf"),
])
def test_one_number_format_for_speed_and_cost(value, text):
    assert number(value) == text


def test_speeds_under_the_floor_read_as_near_zero():
    assert speed_text(6.89e-17) == "≈0" and speed_text(0.0) == "0" and speed_text(1.1e-6) == "1.10e-06"


def test_accuracy_has_one_decimal():
    assert accuracy_text(0.9651) == "96.5%" and accuracy_text(None) == "—"


def test_a_done_net_has_trained_every_epoch_though_its_last_record_is_from_the_one_before():
    last = StepRecord(net=0, epoch=499, step=499, speed=(1.0,), neurons=((1.0,),), cost=1.0)
    assert epochs_done("done", last, 500) == 500
    assert epoch_progress("running", last, 500) == "epoch 499/500"
    assert epoch_progress("waiting", None, 30) == "epoch 0/30"


def sgd_record(epoch, accuracy, speed=(1.0e-4, 1.63e-2)):
    return StepRecord(net=0, epoch=epoch, step=400 * epoch, speed=speed, neurons=((0.0,), (0.0,)), cost=3.0,
                      accuracy=accuracy)


def test_an_sgd_net_at_chance_says_why_and_how_to_reach_the_book():
    history = [sgd_record(0, 0.1), sgd_record(1, 0.1), sgd_record(3, 0.1)]
    note = stall_note(history, 2, batch_size=10)
    assert note.startswith("10.0% after 3 epochs is chance: h1 learns 1/163 as fast as h2 (vanishing gradient)")
    assert "and 4,000 images are few;" in note
    assert note.endswith("the book gets 96.9% in 30 epochs on 50,000: --data PATH (full MNIST).")


def test_a_learning_net_or_epoch_zero_gets_no_note():
    assert stall_note([sgd_record(0, 0.1)], 2, 10) == ""
    assert stall_note([sgd_record(0, 0.1), sgd_record(1, 0.85)], 2, 10) == ""
    assert stall_note([StepRecord(net=0, epoch=5, step=5, speed=(1.0, 1.0), neurons=(), cost=1.0)], 2, 10) == ""


def test_the_stall_note_gives_the_ratio_the_border_gives():
    """While running, the newest record is a probe inside an epoch: the note once gave the epoch
    end's 1/226 beside the border's 1:412."""
    probe = StepRecord(net=0, epoch=3, step=1240, speed=(1.0e-5, 4.12e-3), neurons=((0.0,), (0.0,)), cost=3.0)
    history = [sgd_record(0, 0.1), sgd_record(3, 0.1, speed=(1.0e-5, 2.26e-3)), probe]
    note = stall_note(history, 2, batch_size=10)
    assert headline_text(probe) == "h1:h2 = 1:412" and "h1 learns 1/412 as fast as h2" in note


def test_a_watched_model_at_chance_says_so_in_steps_and_its_layer_names():
    """A watched model's records all say epoch 0: the note once never showed for the PyTorch example."""
    history = [StepRecord(net=0, epoch=0, step=step, speed=(1.0e-5, 4.12e-3), neurons=(), cost=2.3, accuracy=0.1)
               for step in (0, 400, 800)]
    assert stall_note(history, 2, None, names=("fc1", "fc2")) == (
        "10.0% after 800 steps is chance: fc1 learns 1/412 as fast as fc2 (vanishing gradient).")
    assert stall_note(history[:1], 2, None) == ""
