"""An end line on every signal: SIGTERM and SIGHUP end a watched process as they would have, after
its files get their end lines; a handler the process set is never touched."""

import json
import signal
import subprocess
import sys

import pytest

import vgrad
from vgrad.core.watch import shutdown

RECORDS_THEN = """
import os, signal, sys, vgrad
recorder = vgrad.Recorder(sys.argv[1], ["a", "b"])
for step in range(3):
    recorder.log(step, speed=[0.5, 0.25])
{then}
"""


def ended(path):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [row["step"] for row in rows if row["type"] == "step"], rows[-1]


def run(tmp_path, then, timeout=60):
    path = tmp_path / "run.jsonl"
    done = subprocess.run([sys.executable, "-c", RECORDS_THEN.format(then=then), str(path)],
                          capture_output=True, text=True, timeout=timeout)
    return path, done


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_killing_signal_writes_the_end_line_then_kills_as_before(tmp_path, name):
    path, done = run(tmp_path, f"os.kill(os.getpid(), signal.{name})\nprint('survived')")
    assert done.returncode == -getattr(signal, name) and "survived" not in done.stdout   # died of it
    steps, end = ended(path)
    assert steps == [0, 1, 2] and end == {"type": "end", "status": "interrupted", "elapsed": end["elapsed"]}


def test_a_handler_the_process_set_is_left_alone(tmp_path):
    then = ("signal.signal(signal.SIGTERM, lambda *a: print('mine'))\n"   # set after the Recorder: theirs wins
            "os.kill(os.getpid(), signal.SIGTERM)\nrecorder.close()")
    path, done = run(tmp_path, then)
    assert done.returncode == 0 and done.stdout == "mine\n"
    assert ended(path)[1]["status"] == "complete"


def test_a_watchers_held_record_is_written_before_the_end_line(tmp_path):
    torch = pytest.importorskip("torch")
    del torch
    script = """
import os, signal, sys, torch, vgrad
model = torch.nn.Linear(3, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
watcher = vgrad.watch(model, sys.argv[1], optimizer=optimizer)
for step in range(2):
    optimizer.zero_grad(); model(torch.ones(4, 3)).sum().backward(); optimizer.step()
os.kill(os.getpid(), signal.SIGTERM)   # step 1's record waits for a log(loss=…) that never comes
"""
    path = tmp_path / "run.jsonl"
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGTERM
    steps, end = ended(path)
    assert steps == [0, 1] and end["status"] == "interrupted"


def test_an_uncaught_ctrl_c_ends_the_file_interrupted(tmp_path):
    path, done = run(tmp_path, "raise KeyboardInterrupt")
    assert done.returncode == -signal.SIGINT and ended(path)[1]["status"] == "interrupted"


def test_ctrl_c_inside_a_with_ends_the_file_interrupted_and_an_error_stopped(tmp_path):
    for error, status in ((KeyboardInterrupt, "interrupted"), (ValueError, "stopped")):
        path = tmp_path / f"{status}.jsonl"
        with pytest.raises(error), vgrad.Recorder(path, ["a"]) as recorder:
            recorder.log(0, speed=[1.0])
            raise error
        assert ended(path)[1]["status"] == status


def test_the_default_action_comes_back_when_the_last_file_closes(tmp_path):
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    first, second = vgrad.Recorder(tmp_path / "a.jsonl", ["a"]), vgrad.Recorder(tmp_path / "b.jsonl", ["a"])
    assert signal.getsignal(signal.SIGTERM) is shutdown._end_then_die
    first.close()
    assert signal.getsignal(signal.SIGTERM) is shutdown._end_then_die   # b is still open
    second.close()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
