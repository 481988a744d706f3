"""The run file's one writer: valid lines whatever it is handed, bounded memory, bounded close, fork-safe."""

import json
import os
import signal
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgrad.core.guard import Output
from vgrad.core.record.events import End
from vgrad.core.record.format import MAX_LINE, watched_header
from vgrad.core.record.model import MAX_LAYERS, MAX_NAME, model_spec
from vgrad.core.record.step import NEURONS_SHOWN, StepRecord
from vgrad.core.record.writer import RunWriter, encode


def strict(line: bytes):
    def refuse(token):
        raise ValueError(f"bare {token}")
    return json.loads(line, parse_constant=refuse)


def pipe_writer(tmp_path, **options):
    """A RunWriter on the write end of a pipe, and the read end (nobody reads it unless the test does)."""
    read, write = os.pipe()
    return RunWriter(Output(tmp_path / "pipe", write, created=False), **options), read


def read_all(fd):
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def test_every_line_is_strict_json_with_non_finite_numbers_as_strings():
    row = {"type": "end", "a": float("nan"), "b": [1.0, float("-inf"), {"c": (float("inf"),)}]}
    assert strict(encode(row)) == {"type": "end", "a": "nan", "b": [1.0, "-inf", {"c": ["inf"]}]}
    assert encode({"x": 0.5}) == b'{"x": 0.5}\n'


@pytest.mark.slow
def test_the_longest_header_and_record_the_caps_allow_fit_in_a_readers_line():
    names = tuple(f"{i:05d}".ljust(MAX_NAME, "n") for i in range(MAX_LAYERS))
    model = model_spec("m" * MAX_NAME, list(names), lens="weight", activations=list(names),
                       activation_kinds=["leaky_relu"] * MAX_LAYERS)
    assert len(encode(watched_header(model, "vgrad.Recorder"))) <= MAX_LINE
    longest = -2.2250738585072014e-308
    series = (longest,) * MAX_LAYERS
    record = StepRecord(net=0, epoch=0, step=2**53, speed=series, neurons=((longest,) * NEURONS_SHOWN,) * MAX_LAYERS,
                        cost=longest, accuracy=longest, weight_grad=series, update_ratio=series, saturated=series,
                        dead=series)
    assert len(encode(record.to_json())) <= MAX_LINE


def finite(value):
    """What a reader gets back for `value`: non-finite floats as their strings, tuples as lists."""
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20))
def test_any_json_value_is_encoded_as_one_strict_line_that_reads_back(value):
    line = encode({"type": "step", "value": value})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert strict(line) == {"type": "step", "value": finite(value)}


def test_a_row_that_cannot_be_written_is_left_out_and_the_writer_lives_on(tmp_path):
    writer, read = pipe_writer(tmp_path, header={"type": "run"})
    writer.put({"type": "step", "bad": object()})
    writer.put({"type": "step", "long": "x" * MAX_LINE})
    writer.put(b"not a row")
    writer.put({"type": "step", "good": 1})
    writer.close(End("complete", 0.0))
    lines = [strict(line) for line in read_all(read).splitlines()]
    assert [row["type"] for row in lines] == ["run", "step", "end"] and writer.unwritten == 3
    assert "TypeError" in writer.failure and f"longer than the {MAX_LINE} bytes" in writer.failure
    os.close(read)


def test_a_slow_reader_slows_the_writer_and_loses_nothing(tmp_path):
    writer, read = pipe_writer(tmp_path, capacity=4, pause=0.0)
    got = []
    reader = threading.Thread(target=lambda: got.append(read_all(read)))
    reader.start()
    row = {"type": "step", "pad": "p" * 1000}
    assert all(writer.put(row) for _ in range(300))   # 300 KB through a 64 KiB pipe and a queue of 4
    writer.close(End("complete", 0.0))
    reader.join(60)
    assert len(got[0].splitlines()) == 301 and writer.failure is None
    os.close(read)


def test_a_stalled_destination_costs_bounded_memory_and_close_returns_saying_what_was_lost(tmp_path):
    writer, read = pipe_writer(tmp_path, capacity=8, pause=0.0, stall=0.05, close_wait=0.2)
    row = {"type": "step", "pad": "p" * 1000}
    taken = [writer.put(row) for _ in range(400)]   # nobody reads: the pipe fills after about 64 lines
    assert taken.count(False) > 300 and writer.queued <= 8
    assert not taken[-1] and "stalled" in writer.failure
    writer.close(End("complete", 0.0))           # returns although the destination never took the rest
    assert "stopped waiting" in writer.failure and "the end line among them" in writer.failure
    os.close(read)                                   # the blocked write now fails, and the thread ends


def test_a_forked_child_can_close_even_if_the_writer_held_its_lock_at_the_fork(tmp_path):
    writer, read = pipe_writer(tmp_path, header={"type": "run"})
    with writer._cond:            # as if the writer thread held it at the moment of fork()
        pid = os.fork()
        if pid == 0:              # the child: never waits on the copied lock, writes nothing
            try:
                ok = not writer.put({"type": "step"}) and writer.forked
                writer.close(End("stopped", 0.0))
            finally:
                os._exit(0 if ok else 3)
    deadline = time.monotonic() + 60   # only guards against a hang
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the forked child hung in close()")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(done[1]) == 0
    writer.close(End("complete", 0.0))
    assert [strict(line)["type"] for line in read_all(read).splitlines()] == ["run", "end"]
    os.close(read)


def test_the_csv_table_goes_through_the_same_writer(tmp_path):
    from vgrad.core.record.writer import CsvRecorder
    from vgrad.core.spec import parse_net

    specs = (parse_net("784-30-30-10"),)
    read, write = os.pipe()
    table = CsvRecorder(Output(tmp_path / "run.csv", write, created=False), specs)
    table.step(StepRecord(net=0, epoch=0, step=0, speed=(0.5, float("nan")), neurons=((), ()), cost=1.0))
    table.end("complete", 0.0)
    assert read_all(read).decode().splitlines() == ["net,spec,epoch,step,cost,accuracy,speed_1,speed_2",
                                                    "0,784-30-30-10,0,0,1.0,,0.5,nan"]
    os.close(read)
