"""Hostile cases against the readers, followers and the terminal (#25 classes 4, 5, 6, 8), run as a
user would: each is a real `vgrad-tui` process on a crafted file or argument.

    python tests/hostile/run_hostile.py [--big]        (--big: 1 GiB of garbage instead of 256 MiB)

A case is clean when the process ends within its time (never hangs), with an allowed exit code,
no traceback, no ESC or other control byte from a file on stdout or stderr, at most one line on
stderr per reason, and a peak RSS under the case's bound. Prints one line per case and the count.
Not part of pytest: a few cases write hundreds of MiB and take seconds each.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

VGRAD = [sys.executable, "-c", "from vgrad.tui import main; main()"]
ESC = "\x1b"
TRACEBACK_END = re.compile(r"^\w+(Error|Exception): ", re.MULTILINE)   # IndexError: …, not click's "Error: …"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202e]")   # anything but \t and \n


@dataclass
class Case:
    name: str
    args: list[str]
    codes: tuple[int, ...]                      # allowed exit codes
    stdin_tty: bool = False
    timeout: float = 60.0
    max_rss_mb: int = 400
    stdout: str | None = None                   # a path to write stdout to (/dev/full), else a pipe
    during: Callable[[subprocess.Popen], None] | None = None   # what happens while it runs
    check: Callable[[str, str], str | None] | None = None       # extra check: a problem or None
    after: Callable[[], str | None] | None = None
    stderr_lines: int | None = 1                # at most this many stderr lines (None: any)


@dataclass
class Result:
    case: Case
    problems: list[str] = field(default_factory=list)
    code: int | None = None
    rss_mb: float = 0.0
    seconds: float = 0.0


def header(name="net", layers=("a", "b", "c"), nets=None) -> str:
    return json.dumps({"type": "run", "format": 2, "vgrad": "x", "source": "hostile",
                       "nets": nets or [{"id": 0, "name": name, "layers": list(layers)}]})


def step(number, layers=3, **changes) -> str:
    return json.dumps({"type": "step", "net": 0, "step": number, "speed": [0.1 * (k + 1) for k in range(layers)],
                       "neurons": [[0.1]] * layers, "cost": 1.0, "accuracy": None, **changes})


END = json.dumps({"type": "end", "status": "complete", "elapsed": 1.0})


def write(path: Path, *lines: str) -> str:
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (time.time() - 3600, time.time() - 3600))   # written long ago: not "still growing"
    return str(path)


def run(case: Case, folder: Path) -> Result:
    result = Result(case)
    out = open(case.stdout, "w") if case.stdout else subprocess.PIPE
    started = time.monotonic()
    process = subprocess.Popen(["/usr/bin/time", "-f", "RSS=%M", *VGRAD, *case.args], cwd=folder,
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, text=True,
                               errors="replace", start_new_session=True)
    try:
        if case.during:
            case.during(process)
        stdout, stderr = process.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        result.problems.append(f"still running after {case.timeout:.0f} s (a hang)")
    finally:
        if case.stdout:
            out.close()
    result.seconds = time.monotonic() - started
    stdout = stdout or ""
    lines = stderr.splitlines()
    rss = [line for line in lines if line.startswith("RSS=")]
    lines = [line for line in lines if not line.startswith("RSS=") and not line.startswith("Command ")]
    result.rss_mb = int(rss[-1][4:]) / 1024 if rss else 0.0
    result.code = process.returncode
    stderr = "\n".join(lines)
    if not result.problems and process.returncode not in case.codes:
        result.problems.append(f"exit {process.returncode}, expected {case.codes}")
    if "Traceback" in stdout + stderr or TRACEBACK_END.search(stderr):
        result.problems.append("a traceback: " + (lines[-1] if lines else ""))
    if CONTROL.search(stdout + stderr):
        result.problems.append(f"a control character reached the terminal: {CONTROL.search(stdout + stderr)!r}")
    if case.stderr_lines is not None and len(lines) > case.stderr_lines:
        result.problems.append(f"{len(lines)} lines on stderr: {lines[:3]}")
    if result.rss_mb > case.max_rss_mb:
        result.problems.append(f"peak RSS {result.rss_mb:.0f} MB > {case.max_rss_mb} MB")
    if case.check and (problem := case.check(stdout, stderr)):
        result.problems.append(problem)
    if case.after and (problem := case.after()):
        result.problems.append(problem)
    return result


def cases(folder: Path, big: bool) -> list[Case]:
    f = folder
    evil_name = "M\x1b]0;PWNED\x07\x1b[2J"
    evil_layers = ["a\nb", "[bold]x", "$\\frac{a$", "[link=http://e]z", "rtl\u202eexe", "bell\x07"]
    evil = write(f / "evil.jsonl", header(evil_name, evil_layers), step(0, 6), step(1, 6),
                 json.dumps({"type": "event", "net": 0, "kind": "error", "message": "\x1b[31mboom\nsecond"}),
                 json.dumps({"type": "end", "status": "\x1b[5mstopped\n", "elapsed": 1}))
    ok = write(f / "ok.jsonl", header(), step(0), step(1), END)
    deep = [f"l{i}" for i in range(12)]
    one_line = lambda stdout, stderr: (None if all("\n" not in line for line in stdout.splitlines())  # noqa: E731
                                       and len(stdout.splitlines()) == 2 else f"{len(stdout.splitlines())} lines")
    out: list[Case] = []

    # class 4: nothing from a file or a name is obeyed by the terminal
    out += [Case("4 watch: evil names, one line per record", ["watch", "--no-ui", evil], (0,), check=one_line),
            Case("4 replay summary: evil names and messages", ["replay", "--no-ui", evil], (0,), stderr_lines=2),
            Case("4 plot: mathtext and control names", ["plot", evil, "-o", "evil.png"], (0,), stderr_lines=3),
            Case("4 error line: ESC in a missing path", ["replay", "x\x1b]0;T\x07.jsonl"], (2,)),
            Case("4 error line: newline in a path", ["replay", "a\nb\x1b[2J.jsonl"], (2,)),
            Case("4 error line: ESC in --layers", ["watch", "--no-ui", "--layers", "\x1b[2J", ok], (2,)),
            Case("4 error line: ESC in -o", ["plot", ok, "-o", "\x1b[2J.txt"], (2,)),
            Case("4 plot: ESC in the figure's name", ["plot", ok, "-o", "\x1b[2J.png"], (0,), stderr_lines=3),
            Case("4 unknown option with ESC", ["--x\x1b]0;T\x07"], (2,), stderr_lines=None),
            Case("4 not a run: ESC in the first line", ["replay", write(f / "esc.jsonl", "\x1b]0;T\x07")], (2,))]
    # class 5: no hang, bounded memory
    fifo = f / "fifo.jsonl"
    os.mkfifo(fifo)
    link = f / "link.jsonl"
    link.symlink_to(fifo)
    garbage = f / "garbage.jsonl"
    size = (1 << 30) if big else (256 << 20)
    with open(garbage, "w") as file:
        file.write(header() + "\n" + step(0) + "\n")
        chunk = ("x" * 999 + "\n") * 1024
        for _ in range(size // len(chunk)):
            file.write(chunk)
    stepjunk = f / "stepjunk.jsonl"
    with open(stepjunk, "w") as file:
        file.write(header() + "\n")
        line = '{"type": "step", "net": 0, ' + "x" * 1_000_000 + "\n"
        for _ in range(size // len(line)):
            file.write(line)
        file.write(END + "\n")
    nets = [{"id": i, "name": f"m{i}", "layers": ["a", "b"]} for i in range(5000)]
    many_nets = write(f / "nets.jsonl", header(nets=nets), END)
    wide = [f"layer.{i}" for i in range(10_000)]
    many_layers = write(f / "layers.jsonl", header("big", wide), step(0, 10_000), END)
    long_names = write(f / "names.jsonl", header("big", [f"{i:04d}" + "n" * 195 for i in range(5000)]), END)
    huge_header = write(f / "huge.jsonl", header("x" * (2 << 20)))
    out += [Case("5 watch on a FIFO", ["watch", "--no-ui", str(fifo)], (2,), timeout=30),
            Case("5 replay on a FIFO", ["replay", str(fifo)], (2,), timeout=30),
            Case("5 plot on a FIFO", ["plot", str(fifo), "-o", "fifo.png"], (2,), timeout=30),
            Case("5 watch on a symlink to a FIFO", ["watch", "--no-ui", str(link)], (2,), timeout=30),
            Case("5 watch on /dev/zero", ["watch", "--no-ui", "/dev/zero"], (2,), timeout=30),
            Case("5 replay on /dev/zero", ["replay", "/dev/zero"], (2,), timeout=30),
            Case("5 watch on /dev/stdin (a pipe)", ["watch", "--no-ui", "/dev/stdin"], (2,), timeout=30),
            Case(f"5 watch: {size >> 20} MiB of garbage lines", ["watch", "--no-ui", str(garbage)], (2,),
                 timeout=120, max_rss_mb=300),
            Case(f"5 replay: {size >> 20} MiB of garbage lines", ["replay", "--no-ui", str(garbage)], (0,),
                 timeout=120, max_rss_mb=300, stderr_lines=2),
            Case(f"5 watch: {size >> 20} MiB of 1 MB step-like junk", ["watch", "--no-ui", str(stepjunk)], (2,),
                 timeout=120, max_rss_mb=300),
            Case(f"5 replay: {size >> 20} MiB of 1 MB step-like junk", ["replay", "--no-ui", str(stepjunk)], (0,),
                 timeout=120, max_rss_mb=300, stderr_lines=2),
            Case("5 watch: 5,000 nets", ["watch", "--no-ui", many_nets], (2,), timeout=20),
            Case("5 replay: 5,000 nets", ["replay", "--no-ui", many_nets], (2,), timeout=20),
            Case("5 watch: 10,000 layers", ["watch", "--no-ui", many_layers], (0,), timeout=20),
            Case("5 watch --layers all: 10,000 layers", ["watch", "--no-ui", "--layers", "all", many_layers], (0,),
                 timeout=20),
            Case("5 replay: 10,000 layers", ["replay", "--no-ui", many_layers], (0,), timeout=20, stderr_lines=1),
            Case("5 replay: 5,000 names of 199 characters", ["replay", "--no-ui", long_names], (0,), timeout=20),
            Case("5 replay: a 2 MiB header", ["replay", "--no-ui", huge_header], (2,), timeout=20),
            Case("5 watch: a 2 MiB header", ["watch", "--no-ui", huge_header], (2,), timeout=20)]
    # class 6: no traceback from a hostile file or argument
    short_neurons = write(f / "shortn.jsonl", header("m", deep), step(0, 12), step(1, 12, neurons=[[0.1]]), END)
    short_weights = write(f / "shortw.jsonl", header(), step(0, weight_grad=[1.0, 2.0, 3.0]),
                          step(1, weight_grad=[1.0]), END)
    bad_values = [("a negative step", {"step": -1}), ("step 2**63", {"step": 2**63}), ("a float step", {"step": 1.5}),
                  ("speeds as text", {"speed": ["abc", "1", "2"]}), ("nan strings", {"speed": ["nan", "inf", "-inf"]}),
                  ("neurons not lists", {"neurons": [1, 2, 3]}), ("1e400", {"cost": "HOLE"}),
                  ("too many neuron lists", {"neurons": [[0.1]] * 50}), ("weight_grad a dict", {"weight_grad": {}}),
                  ("net 7", {"net": 7})]
    for what, change in bad_values:
        line = step(1, **change).replace('"HOLE"', "1e400")
        path = write(f / f"bad-{len(out)}.jsonl", header("m", deep[:3]), step(0), line, END)
        out += [Case(f"6 watch: {what}", ["watch", "--no-ui", path], (0, 2), stderr_lines=1),
                Case(f"6 replay: {what}", ["replay", "--no-ui", path], (0,), stderr_lines=1)]
    out += [Case("6 watch: short neurons, deep model", ["watch", "--no-ui", short_neurons], (2,)),
            Case("6 replay: short neurons, deep model", ["replay", "--no-ui", short_neurons], (0,)),
            Case("6 plot --lens weight: short weight_grad", ["plot", short_weights, "-o", "w.png", "--lens", "weight"],
                 (0,), stderr_lines=3),
            Case("6 plot: short neurons", ["plot", short_neurons, "-o", "n.png"], (0,), stderr_lines=3)]
    for value in ("--1", "²", "1,,2", "", "+3", "1e3", "٣", ",".join(map(str, range(100)))):
        out.append(Case(f"6 --layers {value[:12]!r}", ["watch", "--no-ui", f"--layers={value}", ok], (2,)))
    for command in (["watch", "--no-ui", ok], ["replay", "--no-ui", ok], ["plot", ok, "-o", "full.png"]):
        out.append(Case(f"6 {command[0]}: stdout on a full disk", command, (1,), stdout="/dev/full",
                        stderr_lines=2))
    # class 8: truthful exits
    def spoil(path: Path, how: str) -> Callable[[subprocess.Popen], None]:
        def during(process: subprocess.Popen) -> None:
            time.sleep(3)                      # the watch has read the first record by then
            if how == "garbage":
                with open(path, "a") as file:
                    file.write("\x00garbage\n")
            else:
                path.unlink()
                path.mkdir()
        return during

    spoiled, emptied = f / "spoiled.jsonl", f / "emptied.jsonl"
    for path in (spoiled, emptied):
        path.write_text(header() + "\n" + step(0) + "\n")
    out += [Case("8 watch: the file turns into garbage", ["watch", "--no-ui", str(spoiled)], (2,),
                 during=spoil(spoiled, "garbage")),
            Case("8 watch: the file becomes a folder", ["watch", "--no-ui", str(emptied)], (2,),
                 during=spoil(emptied, "folder"))]

    def children(process: subprocess.Popen) -> list[int]:
        """The vgrad process under /usr/bin/time (which does not pass signals on)."""
        found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in found]

    def hup(process: subprocess.Popen) -> None:
        time.sleep(3)
        for pid in children(process):
            os.kill(pid, signal.SIGHUP)

    def plot_kill(process: subprocess.Popen, signum: int, png: Path) -> None:
        deadline = time.monotonic() + 30
        while not png.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        for pid in children(process):
            os.kill(pid, signum)

    def no_empty(png: Path) -> Callable[[], str | None]:
        return lambda: (f"{png.name} left with 0 bytes" if png.exists() and not png.stat().st_size else None)

    hup_file = write(f / "hup.jsonl", header(), step(0))
    out += [Case("8 watch: SIGHUP exits 129", ["watch", "--no-ui", hup_file], (129,), during=hup),
            Case("8 watch: a folder", ["watch", "--no-ui", str(f)], (2,),
                 check=lambda o, e: None if "is a folder" in e else "not called a folder"),
            Case("8 replay: a folder", ["replay", str(f)], (2,),
                 check=lambda o, e: None if "is a folder" in e else "not called a folder")]
    for signum, code in ((signal.SIGTERM, 130), (signal.SIGHUP, 129)):
        png = f / f"killed-{signum}.png"
        out.append(Case(f"8 plot killed by {signal.Signals(signum).name}", ["plot", ok, "-o", str(png)], (0, code),
                        during=lambda p, s=signum, g=png: plot_kill(p, s, g), after=no_empty(png), stderr_lines=3))
    fresh_bad = f / "freshbad.jsonl"
    fresh_bad.write_text(header() + "\n" + step(0) + "\ngarbage\n")
    out += [Case("8 replay: a bad line in a fresh file is told once", ["replay", "--no-ui", str(fresh_bad)], (0,),
                 check=lambda o, e: None if e.count("warning") == 1 and "line 3" in e else f"told: {e!r}")]
    return out


def main() -> int:
    big = "--big" in sys.argv
    with tempfile.TemporaryDirectory(prefix="vgrad-hostile-") as name:
        folder = Path(name)
        results = []
        for case in cases(folder, big):
            result = run(case, folder)
            results.append(result)
            verdict = "clean" if not result.problems else "FAIL: " + "; ".join(result.problems)
            print(f"{case.name:<48} exit {result.code!s:>4}  {result.seconds:5.1f} s  {result.rss_mb:5.0f} MB  "
                  f"{verdict}", flush=True)
    clean = sum(not result.problems for result in results)
    print(f"\n{len(results)} hostile cases tried, {clean} clean")
    return 0 if clean == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
