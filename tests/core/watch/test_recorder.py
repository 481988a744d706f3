"""vgrad.Recorder: any loop's per-layer norms as a format-2 run file that every reader plays."""

import json
import subprocess
import sys

import numpy as np
import pytest

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.record.model import ModelSpec
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
