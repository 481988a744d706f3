"""Hostile cases against the writers (`vgrad.Recorder`, `vgrad.watch`, `--record`; #25 classes 1, 2, 3, 5):
values of every kind, steps and sizes the readers reject, two writers of one file, FIFOs, a stalled
destination, fork().

    python tests/hostile/writer_hostile.py

A case is clean when it ends within its time (never hangs), refuses with an InputError naming the
culprit or writes a file the project's reader reads back, and never leaves a file corrupt (NUL
bytes, interleaved lines, a bare NaN). Prints one line per case and the count. Not part of pytest:
a few cases take seconds (a stalled destination waits STALL_S, processes start torch).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.guard import Output, claim_output
from vgrad.core.record.reader import read_run
from vgrad.core.record.writer import JsonlRecorder

LAYERS = ["a", "b"]
VGRAD_TUI = [sys.executable, "-c", "from vgrad.tui import main; main()"]


def strict(path: Path) -> list[dict]:
    """Every line as strict JSON, and no NUL byte in the file."""
    data = path.read_bytes()
    assert b"\0" not in data, "NUL bytes in the file"

    def refuse(token):
        raise AssertionError(f"a bare {token} in the file")
    return [json.loads(line, parse_constant=refuse) for line in data.splitlines()]


def refused(action: Callable[[], object], *words: str) -> str:
    try:
        action()
    except InputError as error:
        text = str(error)
        assert "\n" not in text and all(word in text for word in words), f"the refusal does not say {words}: {text}"
        return text
    raise AssertionError("accepted")


def log_refused(folder: Path, name: str, words: tuple[str, ...], step: object = 1, **values) -> str:
    """A log the file cannot hold is refused on the caller's thread; the recording goes on."""
    path = folder / f"{name}.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2])
        text = refused(lambda: recorder.log(step, **{"speed": [0.1, 0.2], **values}), *words)
        recorder.log(2, speed=[0.1, 0.2])
    recording = read_run(path)
    assert [s.step for s in recording.steps] == [0, 2] and recording.end is not None, "records lost"
    strict(path)
    return text


def cases(folder: Path, torch) -> list[tuple[str, Callable[[], object]]]:
    bad_values = [("accuracy=np.array([0.9, 0.1])", ("accuracy", "2 values"), {"accuracy": np.array([0.9, 0.1])}),
                  ("loss='abc'", ("loss",), {"loss": "abc"}), ("loss=[0.5]", ("loss",), {"loss": [0.5]}),
                  ("loss=1+2j", ("loss",), {"loss": 1 + 2j}), ("loss=True", ("bool",), {"loss": True}),
                  ("loss=10**400", ("loss",), {"loss": 10**400}), ("loss={}", ("loss",), {"loss": {}}),
                  ("accuracy=95", ("fraction",), {"accuracy": 95}),
                  ("accuracy=-0.1", ("fraction",), {"accuracy": -0.1}),
                  ("speed=None", ("speed",), {"speed": None}), ("speed='ab'", ("speed",), {"speed": "ab"}),
                  ("speed={1.0, 2.0}", ("speed",), {"speed": {1.0, 2.0}}),
                  ("speed=[0.1, -1]", ("negative",), {"speed": [0.1, -1.0]}),
                  ("speed=[0.1, 'x']", ("speed[1]",), {"speed": [0.1, "x"]}),
                  ("speed of 3 for 2 layers", ("3 values",), {"speed": [0.1, 0.2, 0.3]}),
                  ("neurons='ab'", ("neurons",), {"neurons": "ab"}), ("neurons=[[[1.0]], None]", ("neurons[0][0]",),
                                                                          {"neurons": [[[1.0]], None]}),
                  ("dead without activations", ("0 activations",), {"dead": [0.5]}),
                  ("update_ratio=[-1, 0]", ("negative",), {"update_ratio": [-1.0, 0.0]})]
    if torch is not None:
        bad_values += [("loss=complex tensor", ("complex",), {"loss": torch.tensor(1 + 1j)}),
                       ("loss=torch.ones(2)", ("2 values",), {"loss": torch.ones(2)}),
                       ("speed on the meta device", ("speed",), {"speed": torch.ones(2, device="meta")})]
    out: list[tuple[str, Callable[[], object]]] = [
        (f"class 1: log({name})", lambda name=name, words=words, values=values: log_refused(
            folder, f"bad{abs(hash(name))}", words, **values)) for name, words, values in bad_values]
    out += [(f"class 2: log(step={step!r})", lambda step=step: log_refused(folder, f"step{abs(hash(repr(step)))}",
                                                                            ("step",), step=step))
            for step in (-1, 2**63, 2**53 + 1, 1.5, "3", True, np.float64(2.0), None)]
    out += [
        ("class 1: NaN and inf in loss and accuracy are strict JSON", lambda: nan_values(folder)),
        ("class 1: numpy scalars, one-element arrays", lambda: accepted(folder, "np", loss=np.float32(0.5),
                                                                         accuracy=np.array([0.75]), step=np.int64(3))),
        ("class 1: a make() that raises on the writer thread", lambda: writer_thread_failure(folder)),
        ("class 2: 10,000 layers with every series (a 2 MB record)", lambda: wide(folder)),
        ("class 2: 6,000 names of 195 characters (a 1.2 MB header)", lambda: long_names(folder)),
        ("class 2: a header past the line limit", lambda: refused(
            lambda: vgrad.Recorder(folder / "huge.jsonl", [f"{i:05d}" + "\x01" * 195 for i in range(10_000)]),
            "a reader accepts")),
        ("class 2: 10,001 layers", lambda: refused(
            lambda: vgrad.Recorder(folder / "many.jsonl", [f"l{i}" for i in range(10_001)]), "10000")),
        ("class 3: a folder, overwrite=True", lambda: refused(
            lambda: vgrad.Recorder(folder, LAYERS, overwrite=True), "is a folder")),
        ("class 3: an existing file without overwrite", lambda: existing(folder)),
        ("class 3: a Recorder on a file --record writes", lambda: recorder_on_record(folder)),
        ("class 3: --record --force on a file a Recorder writes (a real CLI)", lambda: record_on_recorder(folder)),
        ("class 3: a Recorder on a file another process's Recorder writes", lambda: other_process(folder)),
        ("class 3: two threads open Recorders with overwrite=True at once", lambda: two_threads(folder)),
        ("class 3: a notebook cell run again (an unclosed Recorder replaced)", lambda: rerun(folder)),
        ("class 3: a script that never closes its Recorder", lambda: never_closed(folder)),
        ("class 5: a FIFO", lambda: fifo(folder, overwrite=False)),
        ("class 5: a FIFO, overwrite=True", lambda: fifo(folder, overwrite=True)),
        ("class 5: a link to a FIFO", lambda: fifo(folder, overwrite=True, link=True)),
        ("class 5: /dev/null, /dev/zero", lambda: [refused(lambda d=d: vgrad.Recorder(d, LAYERS, overwrite=True),
                                                           "a device") for d in ("/dev/null", "/dev/zero")]),
        ("class 5: a destination that stalls (200,000 records into a pipe nobody reads)", lambda: stalled(folder)),
        ("class 5: 24 forked children log, close or exit", lambda: forks(folder)),
    ]
    if torch is not None:
        out += [("class 1: bf16/fp16 tensors requiring grad", lambda: tensors(folder, torch)),
                ("class 1: vgrad.watch with the reported values", lambda: watched(folder, torch))]
    return out


def accepted(folder: Path, name: str, step=0, **values) -> str:
    path = folder / f"{name}.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(step, speed=[0.1, 0.2], **values)
    (record,) = read_run(path).steps
    strict(path)
    return f"step {record.step}, loss {record.cost}, accuracy {record.accuracy}"


def nan_values(folder: Path) -> str:
    path = folder / "nan.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[float("nan"), 0.2], loss=float("nan"), accuracy=float("inf"))
    rows = strict(path)
    assert rows[1]["cost"] == "nan" and rows[1]["accuracy"] == "inf" and rows[2]["kind"] == "diverged"
    return "written as strings, the run marked diverged"


def writer_thread_failure(folder: Path) -> str:
    path = folder / "later.jsonl"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recorder = vgrad.Recorder(path, LAYERS)
        recorder.log_later(lambda: 1 / 0)
        recorder.log_later(lambda: (1, [0.1, 0.2]))
        recorder.close()
    assert [s.step for s in read_run(path).steps] == [1] and len(caught) == 1
    return str(caught[0].message)


def wide(folder: Path) -> str:
    path, count = folder / "wide.jsonl", 10_000
    rng = np.random.default_rng(0)
    with vgrad.Recorder(path, [f"layer{i}" for i in range(count)]) as recorder:
        recorder.log(0, speed=rng.random(count), weight_grad=rng.random(count), update_ratio=rng.random(count),
                     neurons=rng.standard_normal((count, 6)))
    longest = max(map(len, path.read_bytes().splitlines()))
    assert len(read_run(path).steps[0].speed) == count
    return f"longest line {longest} bytes, read back"


def long_names(folder: Path) -> str:
    path = folder / "names.jsonl"
    names = [f"{i:05d}" + "x" * 190 for i in range(6000)]
    with vgrad.Recorder(path, names) as recorder:
        recorder.log(0, speed=[0.5] * 6000)
    assert read_run(path).specs[0].layer_names == tuple(names)
    return f"header {len(path.read_bytes().splitlines()[0])} bytes, read back"


def existing(folder: Path) -> str:
    path = folder / "mine.txt"
    path.write_text("mine\n")
    text = refused(lambda: vgrad.Recorder(path, LAYERS), "overwrite=True")
    assert path.read_text() == "mine\n"
    return text


def recorder_on_record(folder: Path) -> str:
    path = folder / "cli.jsonl"
    with os.fdopen(claim_output(path, "--record").descriptor(), "w") as held:
        held.write("cli\n")
        held.flush()
        text = refused(lambda: vgrad.Recorder(path, LAYERS, overwrite=True), "another vgrad writer")
        assert path.read_text() == "cli\n", "the --record file was touched"
    return text


def record_on_recorder(folder: Path) -> str:
    path = folder / "rec.jsonl"
    with vgrad.Recorder(path, LAYERS) as recorder:
        recorder.log(0, speed=[0.1, 0.2])
        done = subprocess.run([*VGRAD_TUI, "--no-ui", "--epochs", "1", "--record", str(path), "--force"],
                              capture_output=True, text=True, timeout=120)
        recorder.log(1, speed=[0.1, 0.2])
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert [s.step for s in read_run(path).steps] == [0, 1]
    return done.stderr.strip()


def other_process(folder: Path) -> str:
    path = folder / "other.jsonl"
    code = (f"import vgrad, time; r = vgrad.Recorder({str(path)!r}, ['a']); r.log(0, speed=[1.0]); "
            "print('ready', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        return refused(lambda: vgrad.Recorder(path, ["a"], overwrite=True), "another vgrad writer")
    finally:
        child.kill()
        child.wait()


def two_threads(folder: Path) -> str:
    path, outcomes = folder / "two.jsonl", []

    def open_and_log(tag: str) -> None:
        try:
            recorder = vgrad.Recorder(path, LAYERS, name=tag, overwrite=True)
        except InputError as error:
            outcomes.append(f"refused: {error}")
            return
        for step in range(200):
            recorder.log(step, speed=[0.1, 0.2])
        recorder.close()
        outcomes.append(f"{tag} recorded")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        threads = [threading.Thread(target=open_and_log, args=(tag,)) for tag in "xy"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    rows = strict(path)
    recording = read_run(path)
    assert recording.warning is None and [row["type"] for row in rows].count("run") == 1
    return "; ".join(sorted(outcomes))


def rerun(folder: Path) -> str:
    path = folder / "notebook.jsonl"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = vgrad.Recorder(path, LAYERS, overwrite=True)
        first.log(0, speed=[0.1, 0.2])
        second = vgrad.Recorder(path, LAYERS, overwrite=True)
        second.log(7, speed=[0.1, 0.2])
        first.log(1, speed=[0.1, 0.2])
        second.close()
    rows = strict(path)
    assert [row["type"] for row in rows] == ["run", "step", "end"] and rows[1]["step"] == 7
    return " | ".join(str(w.message) for w in caught)


def never_closed(folder: Path) -> str:
    path = folder / "open.jsonl"
    subprocess.run([sys.executable, "-c", f"import vgrad; r = vgrad.Recorder({str(path)!r}, ['a']); "
                    "r.log(0, speed=[1.0])"], check=True, timeout=60)
    recording = read_run(path)
    assert recording.end is not None and len(recording.steps) == 1
    return f"end line written at exit ({recording.end.status})"


def fifo(folder: Path, overwrite: bool, link: bool = False) -> str:
    path = folder / f"fifo{overwrite}{link}"
    os.mkfifo(path)
    if link:
        os.symlink(path, folder / "link")
        path = folder / "link"
    return refused(lambda: vgrad.Recorder(path, LAYERS, overwrite=overwrite), "a FIFO")


def stalled(folder: Path) -> str:
    read, write = os.pipe()
    recorder = JsonlRecorder(Output(folder / "stalled", write, created=False), {"type": "run"})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    row = {"pad": "p" * 200}
    for _ in range(200_000):
        recorder._writer.put(row)   # what --record's runner threads hand the writer
    recorder.end("stopped", 1.0)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    os.close(read)
    assert grown_mb < 100, f"memory grew {grown_mb:.0f} MB"
    return f"{time.monotonic() - started:.1f} s, +{grown_mb:.0f} MB; {recorder.failure}"


FORKS = """
import os, sys, vgrad
recorder = vgrad.Recorder(sys.argv[1], ["a", "b"])
for step in range(24):
    recorder.log(step, speed=[0.1, 0.2])
    if os.fork() == 0:
        if step % 3 == 0:
            recorder.log(step, speed=[0.3, 0.4])
        if step % 3 == 1:
            recorder.close()
        sys.exit(0)
for _ in range(24):
    os.wait()
recorder.close()
"""


def forks(folder: Path) -> str:
    path = folder / "forks.jsonl"
    subprocess.run([sys.executable, "-W", "ignore", "-c", FORKS, str(path)], check=True, timeout=120)
    assert [s.step for s in read_run(path).steps] == list(range(24))
    assert [row["type"] for row in strict(path)].count("end") == 1
    return "every child ended; the parent's run is whole"


def tensors(folder: Path, torch) -> str:
    weight = torch.tensor(0.5, dtype=torch.bfloat16, requires_grad=True)
    return accepted(folder, "tensors", loss=weight * 2, accuracy=torch.tensor([0.5], dtype=torch.float16))


def watched(folder: Path, torch) -> str:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    path = folder / "watched.jsonl"
    refusals = []
    with vgrad.watch(model, path) as watcher:
        model(torch.ones(5, 3)).sum().backward()
        watcher.log(0, loss=torch.tensor(0.5, requires_grad=True), accuracy=np.array([0.9]))
        for bad in ({"loss": "abc"}, {"loss": [0.5]}, {"loss": torch.tensor(1 + 1j)}):
            refusals.append(refused(lambda bad=bad: watcher.log(1, **bad)))
        watcher.log(2)
    recording = read_run(path)
    assert [s.step for s in recording.steps] == [0, 2] and recording.end is not None
    return f"{len(refusals)} refused on the caller's thread, the run whole"


def run(name: str, action: Callable[[], object], seconds: float = 120.0) -> tuple[bool, str]:
    """Run one case on a thread; a case that has not ended after `seconds` hangs."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = action()
        except BaseException as error:   # a case's failure, whatever it is
            box["error"] = f"{type(error).__name__}: {error}"
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return False, f"hung for {seconds:g} s"
    if "error" in box:
        return False, str(box["error"])
    return True, str(box.get("result"))


def main() -> int:
    try:
        import torch
    except ImportError:
        torch = None
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as name:
        results = [(label, *run(label, action)) for label, action in cases(Path(name), torch)]
    for label, clean, note in results:
        print(f"{'clean' if clean else 'FAIL '}  {label}: {note[:160]}")
    count = sum(clean for _, clean, _ in results)
    print(f"{len(results)} cases, {count} clean")
    return 0 if count == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
