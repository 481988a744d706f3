"""A run never ends in a traceback and never loses what it measured."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import vgrad.core.run.runner as runner_module
from vgrad.core.guard import Output
from vgrad.core.record.reader import read_run
from vgrad.tui.cli import app

cli = CliRunner()
VGRAD = [sys.executable, "-c", "from vgrad.tui import main; main()"]


def test_a_diverging_net_is_marked_and_the_others_go_on(tmp_path):
    record = tmp_path / "run.jsonl"
    result = cli.invoke(app, ["run", "--no-ui", "--eta", "50", "--epochs", "30", "--net", "784-30-30-10",
                              "--net", "784-30-30-10:leaky_relu", "--record", str(record)])
    assert result.exit_code == 0, result.output
    assert "784-30-30-10:leaky_relu" in result.output and "diverged: non-finite value" in result.output
    assert "done · epoch 30/30" in result.output
    events = {e.net: e.kind for e in read_run(record).events}
    assert events == {0: "done", 1: "diverged"}


def test_a_worker_exception_is_shown_recorded_and_exits_1(tmp_path, monkeypatch):
    real = runner_module.run_experiment

    def faulty(spec, data, config, index):
        for record in real(spec, data, config, index):
            if index == 1 and record.epoch == 2:
                raise RuntimeError("injected fault")
            yield record

    monkeypatch.setattr(runner_module, "run_experiment", faulty)
    record = tmp_path / "run.jsonl"
    result = cli.invoke(app, ["run", "--no-ui", "--epochs", "6", "--net", "784-30-30-10",
                              "--net", "784-30-30-30-10", "--record", str(record)])
    assert result.exit_code == 1
    assert "error: RuntimeError: injected fault" in result.output
    recording = read_run(record)
    assert [(e.net, e.kind) for e in recording.events if e.kind == "error"] == [(1, "error")]
    assert len(recording.steps_of(0)) == 7 and len(recording.steps_of(1)) == 2   # epochs 0 … 6


def test_a_full_disk_is_reported_training_finishes_and_the_exit_status_says_so(tmp_path, monkeypatch):
    """The recording's writes fail as on a full disk: the nets finish, the summary names the
    incomplete recording and the exit status is 1, not 0."""
    monkeypatch.setattr(Output, "descriptor", lambda self: os.open("/dev/full", os.O_WRONLY))
    record = tmp_path / "run.jsonl"
    result = cli.invoke(app, ["run", "--no-ui", "--epochs", "5", "--net", "784-30-30-10", "--record", str(record)])
    assert result.exit_code == 1
    assert "No space left on device); training goes on" in result.output
    assert f"error: {record} is incomplete" in result.output
    assert "done · epoch 5/5" in result.output


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize("signals, code", [
    ((signal.SIGINT,), 130),
    ((signal.SIGTERM,), 130),
    ((signal.SIGHUP,), 129),
    ((signal.SIGINT, signal.SIGINT, signal.SIGINT), 130),  # Ctrl+C pressed again during the shutdown
])
def test_a_signal_keeps_a_complete_recording_and_the_summary(tmp_path, signals, code):
    """SIGINT/SIGTERM exit 130, SIGHUP (an SSH drop) 129; the end line and the summary are there."""
    record = tmp_path / "run.jsonl"
    process = subprocess.Popen([*VGRAD, "--no-ui", "--epochs", "100000", "--net", "784-30-30-10",
                                "--record", str(record)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while not (record.exists() and record.read_text().count('"type": "step"') >= 3):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    for signum in signals:
        process.send_signal(signum)
        time.sleep(0.002)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "Traceback" not in err and "interrupted" in err
    recording = read_run(record)
    assert recording.warning is None and recording.end.status == "interrupted"
    assert len(recording.steps) >= 3 and "784-30-30-10" in out


@pytest.mark.slow
def test_ctrl_c_during_a_cold_compile_ends_the_recording_and_exits_130(tmp_path):
    record = tmp_path / "run.jsonl"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cold")}
    process = subprocess.Popen([*VGRAD, "--no-ui", "--net", "784-30-30-10", "--record", str(record)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not (record.exists() and record.read_text().startswith('{"type": "run"')):  # written before compiling
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err[-2000:]
    assert read_run(record).end.status == "interrupted"


@pytest.mark.slow
def test_no_color_output_has_no_colour_codes():
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1", "COLUMNS": "100"}
    done = subprocess.run([*VGRAD, "reproduce", "--seeds", "1", "--epochs", "0"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert "PASS" in done.stdout
    styles = [code for sequence in re.findall(r"\x1b\[([0-9;]*)m", done.stdout) for code in sequence.split(";")]
    assert styles, "FORCE_COLOR keeps bold and italic"
    colours = [c for c in styles if c and (30 <= int(c) <= 49 or 90 <= int(c) <= 107)]
    assert colours == []


@pytest.mark.slow
def test_reproduce_json_goes_to_stdout_alone():
    done = subprocess.run([*VGRAD, "reproduce", "--seeds", "1", "--epochs", "0", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["seeds"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_reproduce_stops_at_once_on_a_signal_however_many_seeds_are_queued(signum):
    """The seeds not started are dropped: exit 130 within the runs already going, not after them all."""
    process = subprocess.Popen([*VGRAD, "reproduce", "--seeds", "10000", "--epochs", "50"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        err = ""
        while "seeds × 3 nets" not in err:   # the runs have begun
            line = process.stderr.readline()
            assert line, "reproduce ended before its runs began"
            err += line
        process.send_signal(signum)
        out, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130 and "reproduce interrupted" in rest and "Traceback" not in rest
