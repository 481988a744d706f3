"""vgrad.Recorder: any loop's per-layer norms as a run file that every reader plays, whatever it is handed."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.guard import claim_output
from vgrad.core.record.format import MAX_LINE
from vgrad.core.record.model import MAX_LAYERS, ModelSpec
from vgrad.core.record.reader import read_run
from vgrad.core.run.board import Board
from vgrad.core.run.replay import Replayer

LAYERS = ["encoder.0", "encoder.2", "head"]


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_recorded_loop_reads_back_as_a_watched_model(tmp_path):
    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS, name="mlp") as recorder:
        recorder.log(0, speed=[np.float32(0.25), np.array(0.5), None], weight_grad=[1, 2, 3],
                     neurons=[np.arange(10.0), [0.5], None], loss=np.float64(2.5), accuracy=0.1)
        recorder.log(1, speed=[0.125, 0.25, 0.5])
    recording = read_run(path)
    assert recording.specs == (ModelSpec("mlp", tuple(LAYERS)),) and recording.warning is None
    first, second = recording.steps
    assert first.speed == (0.25, 0.5, None) and first.weight_grad == (1.0, 2.0, 3.0)
    assert first.neurons == (tuple(range(6)), (0.5,), ()) and first.cost == 2.5 and first.accuracy == 0.1
    assert second.step == 1 and second.cost is None and second.weight_grad is None
    assert lines(path)[1]["speed"][2] is None and lines(path)[-1]["status"] == "complete"


def test_an_existing_file_is_never_overwritten_unasked(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text("mine\n")
    with pytest.raises(InputError, match="overwrite=True"):
        vgrad.Recorder(path, LAYERS)
    assert path.read_text() == "mine\n"
    vgrad.Recorder(path, LAYERS, overwrite=True).close()
    assert lines(path)[0]["type"] == "run"


@pytest.mark.parametrize("layers, reason", [([], "need 1"), ("head", "list of layer names"),
                                            (["a", "a"], "named twice"), (["a", ""], "not a name")])
def test_bad_layer_lists_are_refused_before_the_file_is_made(tmp_path, layers, reason):
    with pytest.raises(InputError, match=reason):
        vgrad.Recorder(tmp_path / "run.jsonl", layers)
    assert not (tmp_path / "run.jsonl").exists()


def test_a_step_with_the_wrong_number_of_layers_is_refused(tmp_path):
    with vgrad.Recorder(tmp_path / "run.jsonl", LAYERS) as recorder, pytest.raises(ValueError, match="3 layers"):
        recorder.log(0, speed=[0.1, 0.2])


def test_non_finite_gradients_mark_the_run_diverged_once(tmp_path):
    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2, 0.3])
        recorder.log(1, speed=[float("nan"), 0.2, 0.3])
        recorder.log(2, speed=[float("inf"), 0.2, 0.3])
    events = [row for row in lines(path) if row["type"] == "event"]
    assert [(e["kind"], e["step"]) for e in events] == [("diverged", 1)] and "encoder.0" in events[0]["message"]
    recording = read_run(path)
    board = Board(recording.specs, recording.config.n_epochs)
    Replayer(recording, board).jump_end()
    assert board.snapshot().nets[0].state == "diverged"


FULL_DISK = """
import resource, signal, sys, warnings
import vgrad
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)            # past the limit, write() fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # a disk that fills after 4 KiB
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    recorder = vgrad.Recorder(sys.argv[1], ["a", "b", "c"])
    for step in range(200):
        recorder.log(step, speed=[0.1, 0.2, 0.3], loss=1.0)
    recorder.close()
print(len(caught), "|", caught[0].message if caught else "", "|", recorder.failure)
"""


def test_a_full_disk_warns_once_and_training_goes_on(tmp_path):
    path = tmp_path / "run.jsonl"
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(path)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    count, message, failure = out.strip().split(" | ")
    assert count == "1" and "writing failed" in message and str(path) in message and "not written" in failure
    recording = read_run(path)   # what was written is a valid prefix
    assert recording.end is None and 0 < len(recording.steps) < 200


def test_import_vgrad_loads_neither_torch_nor_the_dashboard_nor_numba():
    code = ("import sys, vgrad; vgrad.watch, vgrad.Recorder; "
            "print(sorted(m for m in ('torch', 'textual', 'rich', 'typer', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_format_3_series_and_the_lens_read_back(tmp_path):
    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS, lens="weight", activations=["act.0", "act.1"],
                        activation_kinds=["tanh", "relu"]) as recorder:
        recorder.log(0, speed=[None, None, 0.3], weight_grad=[1.0, 2.0, 3.0], update_ratio=[1e-3, None, 2e-3],
                     saturated=[0.25, None], dead=[None, 0.5])
    recording = read_run(path)
    (record,) = recording.steps
    assert recording.specs[0].lens == "weight" and recording.specs[0].activation_kinds == ("tanh", "relu")
    assert record.update_ratio == (1e-3, None, 2e-3) and record.saturated == (0.25, None)
    assert record.dead == (None, 0.5)


@pytest.mark.parametrize("speed, weight_grad, lens", [([None, None, 0.3], [1, 2, 3], "weight"),
                                                      ([None, 0.2, 0.3], [1, 2, 3], "bias"),
                                                      ([None, None, None], None, "bias")])
def test_without_a_lens_the_first_record_chooses_it(tmp_path, speed, weight_grad, lens):
    """lens=None: the weight lens when the first record has weight norms and most layers no bias gradient."""
    path = tmp_path / "run.jsonl"
    recorder = vgrad.Recorder(path, LAYERS)
    assert path.read_bytes() == b""   # the header waits for the first record
    recorder.log(0, speed=speed, weight_grad=weight_grad)
    recorder.close()
    assert read_run(path).specs[0].lens == lens


def test_a_recorder_closed_before_any_record_still_writes_a_header_and_an_end(tmp_path):
    path = tmp_path / "run.jsonl"
    vgrad.Recorder(path, LAYERS).close()
    assert [row["type"] for row in lines(path)] == ["run", "end"] and lines(path)[0]["nets"][0]["lens"] == "bias"


# Class 1: a value the writer cannot write never kills the recording silently.

def strict_lines(path):
    """Every line as strict JSON: a bare NaN or Infinity token fails."""
    def refuse(token):
        raise ValueError(f"bare {token} in the file")
    return [json.loads(line, parse_constant=refuse) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("values, culprit", [
    ({"accuracy": np.array([0.9, 0.1])}, "accuracy=.*holds 2 values"),
    ({"loss": "abc"}, "loss='abc': not a number"),
    ({"loss": [0.5]}, r"loss=\[0.5\]: not a number"),
    ({"loss": 1 + 2j}, "loss=.*not a number"),
    ({"loss": True}, "loss=True: a bool"),
    ({"accuracy": 95.0}, r"accuracy=95.0: give a fraction in \[0, 1\]"),
    ({"speed": [0.1, "x", 0.3]}, r"speed\[1\]='x'"),
    ({"speed": [0.1, -0.2, 0.3]}, r"speed\[1\]=-0.2: negative"),
    ({"neurons": [[0.1], {"a": 1}, None]}, r"neurons\[1\]"),
    ({"weight_grad": np.ones(4)}, "weight_grad: 4 values for 3 layers"),
    ({"saturated": [0.5]}, "saturated: 1 values for 0 activations"),
])
def test_a_value_the_file_cannot_hold_is_refused_by_log_and_the_recording_goes_on(tmp_path, values, culprit):
    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2, 0.3])
        with pytest.raises(InputError, match=culprit):
            recorder.log(1, **{"speed": [0.1, 0.2, 0.3], **values})
        recorder.log(2, speed=[0.1, 0.2, 0.3])
    recording = read_run(path)
    assert [s.step for s in recording.steps] == [0, 2] and recording.end.status == "complete"
    assert recorder.failure is None


@pytest.mark.slow
def test_complex_tensors_are_refused_and_tensors_of_every_real_kind_accepted(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "run.jsonl"
    weight = torch.tensor([0.5, 0.25], requires_grad=True)
    with vgrad.Recorder(path, LAYERS) as recorder:
        with pytest.raises(InputError, match="complex"):
            recorder.log(0, speed=[0.1, 0.2, 0.3], loss=torch.tensor(1 + 2j))
        recorder.log(1, speed=torch.tensor([0.1, 0.2, 0.3], dtype=torch.bfloat16),
                     weight_grad=[torch.tensor(1.0, dtype=torch.float16), np.float32(2.0), np.int64(3)],
                     neurons=[weight * 2, np.arange(8.0), None], loss=(weight ** 2).sum(),
                     accuracy=np.array([0.75]))
    (record,) = read_run(path).steps
    assert record.speed == tuple(float(torch.tensor(v, dtype=torch.bfloat16)) for v in (0.1, 0.2, 0.3))
    assert record.weight_grad == (1.0, 2.0, 3.0) and record.neurons == ((1.0, 0.5), tuple(range(6)), ())
    assert record.cost == 0.3125 and record.accuracy == 0.75


def test_nan_and_inf_in_loss_and_accuracy_are_valid_json_and_read_back(tmp_path):
    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2, 0.3], loss=float("nan"), accuracy=float("nan"))
        recorder.log(1, speed=[0.1, 0.2, 0.3], loss=float("-inf"), accuracy=np.float64("inf"))
    rows = strict_lines(path)
    assert (rows[1]["cost"], rows[1]["accuracy"], rows[3]["cost"], rows[3]["accuracy"]) == ("nan", "nan", "-inf", "inf")
    first, second = read_run(path).steps
    assert math.isnan(first.cost) and math.isnan(first.accuracy) and second.cost == -math.inf


def test_a_record_that_fails_on_the_writer_thread_is_warned_about_and_the_writer_lives_on(tmp_path):
    path = tmp_path / "run.jsonl"
    recorder = vgrad.Recorder(path, LAYERS)
    recorder.log_later(lambda: (0, [0.1, 0.2, 0.3], None, None, "abc"))   # a loss the file cannot hold
    recorder.log_later(lambda: 1 / 0)
    recorder.log_later(lambda: {"step": 2, "speed": [0.1, 0.2, 0.3], "loss": 1.0})
    with pytest.warns(RuntimeWarning, match="could not be written") as caught:
        recorder.close()
    (warning,) = caught   # one warning, naming the first failure; both are counted
    assert "the first: InputError: loss='abc'" in str(warning.message) and "2 lines not written" in recorder.failure
    recording = read_run(path)
    assert [s.step for s in recording.steps] == [2] and recording.end is not None


# Class 2: what the writer accepts, the readers read.

@pytest.mark.parametrize("step, culprit", [(-1, "outside"), (2**63, "outside"), (2**53 + 1, "outside"),
                                           (1.5, "whole number"), ("3", "whole number"), (True, "bool"),
                                           (np.float64(2.0), "whole number")])
def test_steps_the_readers_reject_are_refused_by_log(tmp_path, step, culprit):
    with vgrad.Recorder(tmp_path / "run.jsonl", LAYERS) as recorder, pytest.raises(InputError, match=culprit):
        recorder.log(step, speed=[0.1, 0.2, 0.3])


def test_integer_steps_of_every_kind_are_accepted(tmp_path):
    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        for step in (0, np.int64(1), np.uint8(2), 2**53):
            recorder.log(step, speed=[0.1, 0.2, 0.3])
    assert [s.step for s in read_run(path).steps] == [0, 1, 2, 2**53]


@pytest.mark.slow
def test_the_largest_models_record_lines_a_reader_reads(tmp_path):
    """10,000 layers with six neurons each (a 1.7 MB record) and 6,000 names of 195 characters
    (a 1.2 MB header): both longer than the readers' old 1 MiB limit, both read back."""
    wide = tmp_path / "wide.jsonl"
    with vgrad.Recorder(wide, [f"layer{i}" for i in range(MAX_LAYERS)]) as recorder:
        recorder.log(0, speed=[0.123456789] * MAX_LAYERS, neurons=np.full((MAX_LAYERS, 6), -0.12345678901234566))
    assert max(map(len, wide.read_bytes().splitlines())) > 1 << 20
    assert read_run(wide).steps[0].neurons[-1] == (-0.12345678901234566,) * 6
    named = tmp_path / "named.jsonl"
    names = [f"{i:05d}" + "x" * 190 for i in range(6000)]
    with vgrad.Recorder(named, names) as recorder:
        recorder.log(0, speed=[0.5] * 6000)
    assert len(named.read_bytes().splitlines()[0]) > 1 << 20
    assert read_run(named).specs[0].layers == tuple(names)


def test_a_header_longer_than_a_reader_reads_is_refused_naming_the_limit(tmp_path):
    path = tmp_path / "run.jsonl"
    names = [f"{i:05d}" + "\x01" * 195 for i in range(MAX_LAYERS)]   # each control character takes 6 bytes
    with pytest.raises(InputError, match=f"more than the {MAX_LINE} a reader accepts"):
        vgrad.Recorder(path, names)
    assert not path.exists()


def test_more_layers_than_the_cap_are_refused(tmp_path):
    with pytest.raises(InputError, match=f"need 1 to {MAX_LAYERS}"):
        vgrad.Recorder(tmp_path / "run.jsonl", [f"l{i}" for i in range(MAX_LAYERS + 1)])


# Class 3: one writer per file.

def test_a_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        vgrad.Recorder(tmp_path, LAYERS, overwrite=True)
    with pytest.raises(InputError, match="is a folder"):
        vgrad.Recorder(tmp_path, LAYERS)


def test_a_recorder_never_writes_a_file_that_record_is_writing_nor_the_reverse(tmp_path):
    path = tmp_path / "run.jsonl"
    claimed = claim_output(path, "--record")          # what `vgrad-tui --record run.jsonl` holds
    with os.fdopen(claimed.descriptor(), "w") as cli_file:
        cli_file.write("cli\n")
        cli_file.flush()
        with pytest.raises(InputError, match="another vgrad writer has it open"):
            vgrad.Recorder(path, LAYERS, overwrite=True)
        assert path.read_text() == "cli\n"
    other = tmp_path / "other.jsonl"
    with vgrad.Recorder(other, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2, 0.3])
        with pytest.raises(InputError, match="another vgrad writer has it open"):
            claim_output(other, "--record", force=True)   # `--record other.jsonl --force`
    assert read_run(other).warning is None and len(read_run(other).steps) == 1


@pytest.mark.slow
def test_record_with_force_on_a_file_a_recorder_writes_is_refused_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from vgrad.tui.cli import app

    path = tmp_path / "run.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2, 0.3])
        result = CliRunner().invoke(app, ["run", "--no-ui", "--epochs", "1", "--record", str(path), "--force"])
        recorder.log(1, speed=[0.1, 0.2, 0.3])
    assert result.exit_code == 2 and "another vgrad writer has it open" in result.output
    assert len(result.output.strip().splitlines()) == 1
    recording = read_run(path)
    assert recording.warning is None and [s.step for s in recording.steps] == [0, 1]


def test_a_second_recorder_with_overwrite_replaces_an_unclosed_one_of_this_process(tmp_path):
    """A notebook cell run again: the earlier watcher is closed first, then the file is replaced."""
    path = tmp_path / "run.jsonl"
    first = vgrad.Recorder(path, LAYERS, name="first")
    first.log(0, speed=[0.1, 0.2, 0.3])
    with pytest.warns(RuntimeWarning, match="closing the earlier Recorder"):
        second = vgrad.Recorder(path, LAYERS, name="second", overwrite=True)
    assert first.closed and not second.closed
    with pytest.warns(RuntimeWarning, match="a newer Recorder replaced this one"):
        first.log(1, speed=[0.1, 0.2, 0.3])
    second.log(5, speed=[0.4, 0.5, 0.6])
    second.close()
    assert b"\0" not in path.read_bytes()
    recording = read_run(path)
    assert recording.specs[0].name == "second" and [s.step for s in recording.steps] == [5]
    assert [row["type"] for row in lines(path)] == ["run", "step", "end"]


# Class 5 (the writer's half): no hang, bounded memory.

def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for overwrite in (False, True):
        with pytest.raises(InputError, match="is a FIFO"):
            vgrad.Recorder(fifo, LAYERS, overwrite=overwrite)


FORKS = """
import os, sys, vgrad
recorder = vgrad.Recorder(sys.argv[1], ["a", "b"])
for step in range(24):
    recorder.log(step, speed=[0.1, 0.2])
    if os.fork() == 0:             # a child that logs, closes, or just exits (atexit closes)
        if step % 3 == 0:
            recorder.log(step, speed=[0.3, 0.4])
        if step % 3 == 1:
            recorder.close()
        sys.exit(0)
for _ in range(24):
    os.wait()
recorder.close()
"""


@pytest.mark.slow
def test_forked_children_exit_without_hanging_and_write_nothing(tmp_path):
    path = tmp_path / "run.jsonl"
    subprocess.run([sys.executable, "-W", "ignore", "-c", FORKS, str(path)], check=True, timeout=120)
    recording = read_run(path)
    assert [s.step for s in recording.steps] == list(range(24)) and recording.end.status == "complete"
    assert [row["type"] for row in lines(path)].count("end") == 1


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_what_log_accepts_is_what_the_reader_reads(tmp_path, data):
    """Values of every kind: log either refuses them (InputError) or writes what a reader reads back."""
    anything = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=3),
                         st.complex_numbers(), st.lists(st.floats(), max_size=2),
                         st.builds(np.float32, st.floats(width=32)),
                         st.builds(np.array, st.lists(st.floats(), max_size=2)),
                         st.builds(np.int64, st.integers(-2**63, 2**63 - 1)), st.just(float("nan")))
    path = tmp_path / "fuzz.jsonl"
    given_values = {"step": data.draw(anything), "speed": [data.draw(anything) for _ in LAYERS],
                    "loss": data.draw(anything), "accuracy": data.draw(anything),
                    "update_ratio": data.draw(st.one_of(st.none(), st.lists(anything, min_size=3, max_size=3)))}
    with vgrad.Recorder(path, LAYERS, overwrite=True) as recorder:
        try:
            recorder.log(**given_values)
            accepted = True
        except InputError:
            accepted = False
    recording = read_run(path)
    assert recording.warning is None and recording.end is not None and len(recording.steps) == accepted
    if accepted:
        (record,) = recording.steps
        assert record.step == int(given_values["step"])
        for got, value in zip(record.speed, given_values["speed"]):
            assert got is None if value is None else same(got, float(np.asarray(value).item()))
        assert same(record.cost, given_values["loss"]) and same(record.accuracy, given_values["accuracy"])


def same(got, value):
    if value is None:
        return got is None
    value = float(np.asarray(value).item())
    return got == value or (math.isnan(got) and math.isnan(value))


@pytest.mark.slow
def test_a_watchers_bad_values_are_refused_on_the_callers_thread_and_its_recording_goes_on(tmp_path):
    """The reported instances: `watcher.log(step, accuracy=np.array([0.9]))` (one value: taken),
    a string, a list, a complex tensor (refused); every later record and the end line are written."""
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    path = tmp_path / "run.jsonl"
    with vgrad.watch(model, path) as watcher:
        model(torch.ones(5, 3)).sum().backward()
        watcher.log(0, loss=torch.tensor(0.5, requires_grad=True), accuracy=np.array([0.9]))
        for bad in ({"loss": "abc"}, {"loss": [0.5]}, {"loss": torch.tensor(1 + 1j)}, {"accuracy": 90},
                    {"loss": torch.ones(2)}):
            with pytest.raises(InputError):
                watcher.log(1, **bad)
        with pytest.raises(InputError, match="step"):
            watcher.log(-1)
        watcher.log(2, loss=torch.tensor(float("nan"), dtype=torch.bfloat16))
    recording = read_run(path)
    assert [s.step for s in recording.steps] == [0, 2] and recording.end.status == "complete"
    assert recording.steps[0].accuracy == 0.9 and math.isnan(recording.steps[1].cost)
    strict_lines(path)
