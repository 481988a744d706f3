"""Fuzzing the run-file reader: any JSON in any header field or step key is a one-line
InputError (header) or a damaged tail (steps), never another exception."""

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgrad.core.config import Config
from vgrad.core.errors import InputError
from vgrad.core.record.format import run_header
from vgrad.core.record.reader import LineParser, read_run
from vgrad.core.run.board import Board
from vgrad.core.run.follow_runner import FollowRunner, plan
from vgrad.core.spec import parse_net
from vgrad.core.text import printable
from vgrad.tui.watch_command import record_line

SPECS = (parse_net("784-30-30-10"),)
HEADER = run_header(SPECS, Config(epochs=5), "mnist", {"probe": 1000})
STEP = {"type": "step", "net": 0, "epoch": 1, "step": 1, "speed": [0.1, 0.2], "neurons": [[0.1], [0.2]],
        "cost": 1.0, "accuracy": None}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)
HOSTILE = st.sampled_from(["[" * 100_000, "1" * 5000, "1e400", "-1", str(10**30), "\"\\ud800\""])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def read(tmp_path, header_line: str, *lines: str):
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([header_line, *lines, json.dumps({"type": "end", "status": "complete"})]) + "\n")
    try:
        return read_run(path)
    except InputError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        return None


def replaced(row: dict, path: tuple, value) -> dict:
    """`row` with the value at `path` (keys or list indices) replaced by `value`."""
    row = json.loads(json.dumps(row))
    target = row
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return row


HEADER_PATHS = st.sampled_from([("config",), ("nets",), ("data",), ("format",), ("nets", 0), ("nets", 0, "spec"),
                                ("nets", 0, "id"), ("config", "epochs"), ("config", "eta"), ("config", "seed"),
                                ("config", "mode"), ("config", "batch_size"), ("config", "explode_w")])
STEP_KEYS = st.sampled_from(["net", "epoch", "step", "speed", "neurons", "cost", "accuracy", "weight_grad"])


@SETTINGS
@given(path=HEADER_PATHS, value=JSON)
def test_any_json_in_a_header_field_is_read_or_refused_in_one_line(tmp_path, path, value):
    read(tmp_path, json.dumps(replaced(HEADER, path, value)))


@SETTINGS
@given(path=HEADER_PATHS, raw=HOSTILE)
def test_hostile_literals_in_a_header_are_refused_in_one_line(tmp_path, path, raw):
    line = json.dumps(replaced(HEADER, path, "HOLE")).replace('"HOLE"', raw)
    read(tmp_path, line)


@SETTINGS
@given(key=STEP_KEYS, value=JSON | HOSTILE.map(lambda raw: ("RAW", raw)))
def test_any_value_in_a_step_line_is_a_damaged_tail_at_worst(tmp_path, key, value):
    if isinstance(value, tuple):
        line = json.dumps(replaced(STEP, (key,), "HOLE")).replace('"HOLE"', value[1])
    else:
        line = json.dumps(replaced(STEP, (key,), value))
    recording = read(tmp_path, json.dumps(HEADER), json.dumps(STEP), line)
    assert recording is not None and len(recording.steps) in (1, 2)
    for step in recording.steps:
        assert 0 <= step.epoch <= 5 and len(step.speed) == 2


NAMES = [f"layer.{i}" for i in range(12)]
WATCHED = json.dumps({"type": "run", "format": 2, "vgrad": "x", "source": "test",
                      "nets": [{"id": 0, "name": "m", "layers": NAMES}]})
DEEP_STEP = {"type": "step", "net": 0, "step": 1, "speed": [0.1] * 12, "neurons": [[0.1]] * 12, "cost": 1.0}
LINES = st.binary(max_size=200) | st.text(max_size=60).map(str.encode) | JSON.map(lambda v: json.dumps(v).encode())
LISTS = st.lists(st.none() | st.floats() | st.lists(st.floats(allow_nan=False), max_size=7), max_size=14)


@SETTINGS
@given(lines=st.lists(LINES, max_size=6))
def test_any_bytes_after_a_header_parse_to_records_or_one_printable_reason(lines):
    parser = LineParser(Path("run.jsonl"), WATCHED)
    batch = parser.parse(line.replace(b"\n", b" ") for line in lines)
    if batch.problem is not None:
        assert printable(batch.problem[1]) == batch.problem[1]


@SETTINGS
@given(key=st.sampled_from(["speed", "neurons", "weight_grad"]), values=LISTS, layers=st.sampled_from([None, "all",
                                                                                                      "0,-1,mid"]))
def test_any_list_in_a_deep_models_step_reaches_the_watch_or_is_one_failure(tmp_path, key, values, layers):
    """A short `neurons` once raised IndexError in the poller; now every record the reader lets
    through can be projected, published and printed in one line."""
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([WATCHED, json.dumps(DEEP_STEP), json.dumps({**DEEP_STEP, "step": 2, key: values})])
                    + "\n")
    specs, files = plan([path], layers)
    board = Board(specs, 0)
    lines: list[str] = []
    runner = FollowRunner(files, board, layers=layers,
                          listener=lambda p, record, spec: lines.append(record_line(p, record, spec)))
    runner.poll()
    net = board.snapshot().nets[0]
    assert len(lines) in (1, 2) and all("\n" not in line for line in lines)
    assert net.state == ("running" if len(lines) == 2 else "error")
