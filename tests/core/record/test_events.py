"""Every line after a run file's header is parsed in one place into a StepRecord, an Event or the End."""

import json

import pytest

from vgrad.core.record.events import End, Event, parse_item
from vgrad.core.record.step import StepRecord
from vgrad.core.status import EndStatus, NetState


def test_a_step_line_is_a_step_record():
    row = {"type": "step", "net": 1, "epoch": 2, "step": 3, "speed": [0.5], "neurons": [[]], "cost": "nan",
           "accuracy": None}
    item = parse_item(row)
    assert isinstance(item, StepRecord) and (item.net, item.epoch, item.step) == (1, 2, 3) and not item.is_finite


def test_events_and_the_end_round_trip_through_their_json():
    for item in (Event(net=0, kind=NetState.DIVERGED, epoch=1, step=12, message="non-finite value"),
                 Event(net=2, kind="restart"), End(status=EndStatus.COMPLETE, elapsed=1.25)):
        assert parse_item(json.loads(json.dumps(item.to_json()))) == item


def test_an_event_writes_only_what_it_knows():
    assert Event(net=0, kind=NetState.DONE).to_json() == {"type": "event", "net": 0, "kind": "done"}


def test_an_end_line_without_a_status_is_read_as_unknown():
    assert parse_item({"type": "end"}) == End(status="?", elapsed=None)


@pytest.mark.parametrize("row, reason", [
    ({"type": "event", "net": 0, "kind": "exploded"}, "not a valid event"),
    ({"type": "event", "net": -1, "kind": "done"}, "not a valid event"),
    ({"type": "event", "net": "0", "kind": "done"}, "not a valid event"),
    ({"type": "event", "net": 0, "kind": "done", "step": 1.5}, "not a valid event"),
    ({"type": "end", "status": 3}, "not a valid end"),
    ({"type": "end", "status": "complete", "elapsed": "soon"}, "not a valid end"),
    ({"type": "step", "net": 0}, "not a valid step"),
    ({"type": "checkpoint"}, "unknown type 'checkpoint'"),
])
def test_a_line_that_is_none_of_them_says_what_it_is_not(row, reason):
    with pytest.raises(ValueError, match=reason):
        parse_item(row)
