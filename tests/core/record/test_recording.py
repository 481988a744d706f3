"""The JSONL run file: written as a run goes, read back whole or as a valid prefix."""

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgrad.core.config import Config
from vgrad.core.errors import InputError
from vgrad.core.guard import Output
from vgrad.core.record.format import RESTART, run_header
from vgrad.core.record.reader import read_run
from vgrad.core.record.step import StepRecord
from vgrad.core.record.writer import CsvRecorder, JsonlRecorder
from vgrad.core.spec import parse_net

FIXTURES = Path(__file__).parents[2] / "fixtures"
SPECS = (parse_net("784-30-30-10"), parse_net("784-30-30-30-10:relu:he"))


def step(net, epoch, value=0.5):
    hidden = SPECS[net].hidden
    return StepRecord(net=net, epoch=epoch, step=epoch, speed=(value,) * hidden,
                      neurons=((value,) * 6,) * hidden, cost=1.5, accuracy=None)


def write_run(path, steps=3, end=True):
    recorder = JsonlRecorder(path, run_header(SPECS, Config(epochs=steps), "mnist", {"probe": 1000}))
    for epoch in range(steps):
        for net in range(2):
            recorder.step(step(net, epoch))
    recorder.event(1, "diverged", epoch=2, message="nan")
    if end:
        recorder.end("complete", 1.25)
    else:
        recorder.close()
    return path


def test_a_complete_run_reads_back_exactly(tmp_path):
    recording = read_run(write_run(tmp_path / "run.jsonl"))
    assert recording.warning is None
    assert recording.specs == SPECS and recording.config.n_epochs == 3
    assert recording.steps_of(1) == [step(1, e) for e in range(3)]
    assert recording.events[0].kind == "diverged" and recording.end.status == "complete"


def test_every_line_reaches_the_disk_while_the_run_goes_on(tmp_path):
    path = tmp_path / "run.jsonl"
    recorder = JsonlRecorder(path, run_header(SPECS, Config(), "mnist", {}))
    recorder.step(step(0, 0))
    deadline = time.monotonic() + 30   # within WRITE_PAUSE_S; the deadline only guards against a hang
    while len(path.read_text().splitlines()) < 2:
        assert time.monotonic() < deadline, "the step never reached the disk"
        time.sleep(0.01)
    assert [json.loads(line)["type"] for line in path.read_text().splitlines()] == ["run", "step"]
    recorder.close()


def test_a_run_cut_short_is_a_valid_prefix_with_a_warning(tmp_path):
    path = write_run(tmp_path / "run.jsonl", end=False)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # cut inside the last line
    recording = read_run(path)
    assert "line" in recording.warning and len(recording.steps) == 6


def test_non_finite_values_survive_the_round_trip(tmp_path):
    path = tmp_path / "run.jsonl"
    recorder = JsonlRecorder(path, run_header(SPECS, Config(), "mnist", {}))
    recorder.step(step(0, 0, value=float("nan")))
    recorder.end("complete", 0.0)
    assert not read_run(path).steps[0].is_finite


@pytest.mark.parametrize("content, reason", [
    ("hello\n", "not a vgrad run"), ("", "not a vgrad run"), ('{"type": "step"}\n', "not a vgrad run"),
    ('{"type": "run", "format": 99}\n', "format 99"),
    ('{"type": "run", "format": 1, "nets": []}\n', "corrupt run header"),
])
def test_files_that_are_not_vgrad_runs_are_refused(tmp_path, content, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=reason) as error:
        read_run(path)
    assert str(path) in str(error.value)


def test_missing_and_binary_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_run(tmp_path / "none.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not a vgrad run"):
        read_run(tmp_path / "bin.jsonl")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["type", "net", "epoch", "step", "speed", "neurons", "cost", "kind"]),
    st.one_of(st.integers(-2, 3), st.sampled_from(["step", "event", "end", "done"]),
              st.lists(st.floats(allow_nan=True), max_size=3)), max_size=8))), max_size=6))
def test_any_tail_after_a_good_header_reads_or_warns(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "run.jsonl"
    header = json.dumps(run_header(SPECS, Config(), "mnist", {}))
    path.write_text("\n".join([header, *(line.replace("\n", " ") for line in lines)]) + "\n")
    recording = read_run(path)
    assert all(0 <= s.net < 2 and len(s.speed) == SPECS[s.net].hidden for s in recording.steps)


def test_csv_has_one_row_per_step_and_a_column_per_layer(tmp_path):
    path = tmp_path / "run.csv"
    recorder = CsvRecorder(path, SPECS)
    recorder.step(step(0, 0))
    recorder.step(step(1, 0))
    recorder.end("complete", 0.0)
    rows = path.read_text().splitlines()
    assert rows[0] == "net,spec,epoch,step,cost,accuracy,speed_1,speed_2,speed_3"
    assert rows[1].endswith(",0.5,0.5,") and len(rows) == 3


def test_a_failing_destination_is_reported_and_never_raises(tmp_path):
    read, write = os.pipe()
    os.close(read)   # every write now fails (EPIPE)
    recorder = JsonlRecorder(Output(tmp_path / "run.jsonl", write, created=False),
                             run_header(SPECS, Config(), "mnist", {}))
    recorder.step(step(0, 0))
    recorder.step(step(0, 1))
    recorder.end("complete", 1.0)
    assert "writing failed (Broken pipe)" in recorder.failure and "4 lines not written" in recorder.failure


def test_format_1_files_still_read():
    recording = read_run(FIXTURES / "book3.jsonl")
    assert recording.header["format"] == 1 and recording.steps and recording.end is not None


def test_a_new_header_names_each_nets_layers(tmp_path):
    header = run_header(SPECS, Config(), "mnist", {})
    assert header["format"] == 3
    assert [net["layers"] for net in header["nets"]] == [[f"h{k + 1}" for k in range(spec.hidden)]
                                                         for spec in SPECS]


def test_a_restart_event_starts_that_nets_run_again(tmp_path):
    path = tmp_path / "run.jsonl"
    recorder = JsonlRecorder(path, run_header(SPECS, Config(), "mnist", {}))
    for index in range(3):
        recorder.step(step(0, index))
    recorder.event(0, RESTART)
    recorder.step(step(0, 0, value=0.5))
    recorder.end("complete", 0.0)
    recording = read_run(path)
    assert recording.restarts == 1
    assert [s.step for s in recording.steps_of(0)] == [0] and recording.steps_of(0)[0].speed[0] == 0.5
