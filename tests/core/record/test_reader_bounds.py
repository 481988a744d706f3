"""The reader's memory is bounded on any file: lines that are not records are never held, long
step-like lines are held within a byte budget, and a flood of events is a damaged tail."""

import json
import tracemalloc
from pathlib import Path

import vgrad.core.record.reader as reader
from vgrad.core.record.reader import MAX_EVENTS, LineParser

HEADER = json.dumps({"type": "run", "format": 2, "vgrad": "x", "source": "test",
                     "nets": [{"id": 0, "name": "m", "layers": ["a", "b"]}]})
STEP = json.dumps({"type": "step", "net": 0, "step": 0, "speed": [0.1, 0.2], "neurons": [[], []], "cost": 1.0})


def test_nothing_after_the_first_line_that_is_not_a_record_is_read():
    """1 GiB of garbage lines once cost 1.3 GB: every one was held until the batch ended."""
    read = []

    def lines():
        yield STEP.encode()
        for number in range(100_000):
            read.append(number)
            yield b"x" * 1000

    batch = LineParser(Path("run.jsonl"), HEADER).parse(lines())
    assert len(batch.items) == 1 and batch.problem == (3, "is not complete JSON") and len(read) == 1


def test_long_step_like_lines_are_held_within_the_byte_budget(monkeypatch):
    monkeypatch.setattr(reader, "HELD_BYTES", 4 << 20)
    junk = b'{"type": "step", "net": 0, ' + b"x" * (1 << 20)

    def lines():
        for _ in range(64):                   # 64 MiB in all: held whole, 64 MB
            yield bytes(junk)

    tracemalloc.start()
    try:
        batch = LineParser(Path("run.jsonl"), HEADER).parse(lines())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert batch.problem is not None and batch.records == 64
    assert peak < 24 << 20                    # MIN_HELD lines of 1 MiB, and the one being read


def test_a_flood_of_events_is_a_damaged_tail_not_a_growing_list():
    event = json.dumps({"type": "event", "net": 0, "kind": "done"}).encode()
    batch = LineParser(Path("run.jsonl"), HEADER).parse(event for _ in range(MAX_EVENTS + 5))
    assert len(batch.items) == MAX_EVENTS
    assert batch.problem == (MAX_EVENTS + 2, f"is event number {MAX_EVENTS + 1}: more than a vgrad run writes")
