"""Files and arguments written to harm: a model's names, a damaged step, a bad --layers value.
Nothing a file holds reaches the terminal as a control sequence or as markup, and nothing
ends in a traceback."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vgrad.core.record.reader import read_run
from vgrad.core.run.board import Board
from vgrad.core.run.follow_runner import FollowRunner, plan
from vgrad.tui.app import make_replay_app
from vgrad.tui.cli import app
from vgrad.tui.watch_command import follow_lines

cli = CliRunner()
ESC = "\x1b"
EVIL_NAME = "M\x1b]0;PWNED\x07\x1b[2J"            # retitles the terminal, then clears it
EVIL_LAYERS = ["a\nb", "[bold]x", "$\\frac{a$", "[link=http://e]z"]


def header(name="net", layers=("a", "b", "c")) -> str:
    return json.dumps({"type": "run", "format": 2, "vgrad": "x", "source": "test",
                       "nets": [{"id": 0, "name": name, "layers": list(layers)}]})


def step(number, layers=3, **changes) -> str:
    row = {"type": "step", "net": 0, "step": number, "speed": [0.1 * (k + 1) for k in range(layers)],
           "neurons": [[0.1]] * layers, "cost": 1.0, "accuracy": None, **changes}
    return json.dumps(row)


END = json.dumps({"type": "end", "status": "complete", "elapsed": 1.0})


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def evil_run(tmp_path) -> Path:
    event = json.dumps({"type": "event", "net": 0, "kind": "error", "message": "\x1b[31m[reverse]boom\nsecond"})
    return write(tmp_path / "evil.jsonl", header(EVIL_NAME, EVIL_LAYERS), step(0, 4), step(1, 4), event,
                 json.dumps({"type": "end", "status": "\x1b[5mstopped", "elapsed": 1.0}))


def test_watch_prints_one_line_per_record_with_names_escaped(tmp_path):
    result = cli.invoke(app, ["watch", "--no-ui", str(evil_run(tmp_path))])
    lines = result.stdout.splitlines()
    assert ESC not in result.output and len(lines) == 2
    assert lines[0].startswith("evil.jsonl  step 0  loss 1.00  a\\nb 0.100 [bold]x 0.200 $\\frac{a$ 0.300")


def test_replay_summary_shows_names_as_text_not_as_markup_or_escapes(tmp_path):
    result = cli.invoke(app, ["replay", "--no-ui", str(evil_run(tmp_path))])
    assert result.exit_code == 0 and ESC not in result.output
    assert "M\\x1b]0;PWNED\\x07\\x1b[2J" in result.stdout
    assert "[bold]x" in result.stdout and "[link=http://e]z" in result.stdout   # the table has room for it whole
    assert "error:\\x1b[31m[reverse]boom\\nsecond" in "".join(result.stdout.split())
    assert "a\\nb → $\\frac{a$ = 1:3.0" in result.stdout                     # hidden layers: the last is the output


def test_an_error_line_names_a_hostile_path_in_one_escaped_line(tmp_path):
    path = write(tmp_path / "x\x1b]0;T\x07\n.jsonl", "not a run")
    result = cli.invoke(app, ["watch", "--no-ui", str(path)])
    assert result.exit_code == 2 and ESC not in result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("vgrad-tui: error: run file ")
    assert "x\\x1b]0;T\\x07\\n.jsonl" in result.stderr


def test_the_dashboard_shows_markup_in_names_as_text(tmp_path, drive):
    """A layer called `[link=http://e]z` once stopped the dashboard with a MarkupError."""
    replay = make_replay_app(read_run(evil_run(tmp_path)), name="evil.jsonl", autoplay=False)
    replay.controls.jump_end()

    async def scenario(pilot):
        await pilot.pause()
        text = re.sub(r"<[^>]+>", "", replay.export_screenshot()).replace("&#160;", " ")
        assert ESC not in text and "M\\x1b]0;PWNED" in text
        assert "[bold]x" in text and "a\\nb → $\\frac{a$ = 1:3.0" in text

    drive(replay, scenario, size=(120, 36))


@pytest.mark.slow  # matplotlib: about 2 s
def test_plot_draws_names_matplotlib_would_read_as_mathtext_literally(tmp_path):
    out = tmp_path / "evil.png"
    result = cli.invoke(app, ["plot", str(evil_run(tmp_path)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and ESC not in result.output


def invoke_within(args, timeout=60.0):
    """cli.invoke on a thread: the deadline only guards against a command that blocks for ever."""
    results = []
    thread = threading.Thread(target=lambda: results.append(cli.invoke(app, args)), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{args} blocked"
    return results[0]


def test_watch_on_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "run.jsonl"
    os.mkfifo(fifo)
    result = invoke_within(["watch", "--no-ui", str(fifo)])
    assert result.exit_code == 2 and result.stderr == f"vgrad-tui: error: run file {fifo}: is a FIFO, not a run file\n"


@pytest.mark.parametrize("command", [["watch", "--no-ui"], ["replay", "--no-ui"], ["plot", "-o", "out.png"]])
def test_a_folder_is_called_a_folder(tmp_path, command):
    result = cli.invoke(app, [command[0], str(tmp_path), *command[1:]])
    assert result.exit_code == 2 and "is a folder" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_header_with_thousands_of_nets_is_refused_in_one_line(tmp_path):
    """5,000 nets once kept replay busy for 40 s building tables."""
    nets = [{"id": i, "name": f"m{i}", "layers": ["a", "b"]} for i in range(5000)]
    path = write(tmp_path / "nets.jsonl", json.dumps({"type": "run", "format": 2, "vgrad": "x", "nets": nets}))
    for command in (["replay", "--no-ui"], ["watch", "--no-ui"]):
        result = cli.invoke(app, [*command, str(path)])
        assert result.exit_code == 2 and "5000 nets; a vgrad run has at most 4" in result.stderr


def test_a_short_step_in_a_deep_model_ends_watch_with_one_line_not_a_traceback(tmp_path):
    names = [f"l{i}" for i in range(12)]
    path = write(tmp_path / "deep.jsonl", header("m", names), step(0, 12), step(1, 12, neurons=[[0.1]]))
    result = cli.invoke(app, ["watch", "--no-ui", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output   # refused before following
    assert result.stderr == f"vgrad-tui: error: run file {path}: line 3 has 1 neuron lists for a net with 12 layers\n"


def test_a_short_weight_gradient_is_a_warning_in_replay_not_an_index_error(tmp_path):
    path = write(tmp_path / "run.jsonl", header(), step(0, weight_grad=[1.0, 2.0, 3.0]), step(1, weight_grad=[1.0]),
                 END)
    recording = read_run(path)
    assert len(recording.steps) == 1 and recording.bad_line == 3
    assert recording.warning == f"run file {path}: line 3 has 1 weight gradients for a net with 3 layers; " \
                                "playing the 1 steps before it"


def test_replay_tells_a_bad_line_once_even_in_a_file_still_being_written(tmp_path):
    """A fresh file with a damaged line was said to be `still being written` (twice)."""
    path = write(tmp_path / "run.jsonl", header(), step(0), "garbage")
    result = cli.invoke(app, ["replay", "--no-ui", str(path)])
    assert result.exit_code == 0 and "still being written" not in result.stderr
    assert result.stderr == f"warning: run file {path}: line 3 is not complete JSON; playing the 1 steps before it\n"


def test_replay_tells_a_run_cut_short_once(tmp_path):
    path = write(tmp_path / "run.jsonl", header(), step(0))
    os.utime(path, (0, 0))                              # written long ago: not still growing
    result = cli.invoke(app, ["replay", "--no-ui", str(path)])
    assert result.stderr.count("warning:") == 1 and "cut short" in result.stderr


@pytest.mark.parametrize("turns_into", ["garbage", "a folder"])
def test_a_followed_file_that_turns_bad_ends_watch_with_one_line_and_exit_2(tmp_path, turns_into):
    path = write(tmp_path / "run.jsonl", header(), step(0))

    def spoil():
        if turns_into == "garbage":
            with open(path, "a") as file:
                file.write("\x00\x00garbage\n")
        else:
            path.unlink()
            path.mkdir()

    script = iter([spoil])
    specs, files = plan([path])
    runner = FollowRunner(files, Board(specs, 0))
    lines, notes = [], []
    code = follow_lines(runner, lines.append, wait=lambda seconds: next(script)(), note=notes.append)
    assert code == 2 and len(lines) == 1 and len(notes) == 1
    assert notes[0].startswith(f"vgrad-tui: error: run file {path}: ")


VGRAD = [sys.executable, "-c", "from vgrad.tui import main; main()"]


def wait_for(condition, timeout=60.0):
    """Poll `condition` until it holds; the deadline only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


@pytest.mark.slow   # a process each: about 1 s apiece
@pytest.mark.parametrize("command", [["watch", "--no-ui"], ["replay", "--no-ui"], ["plot", "-o", "out.png"]])
def test_stdout_on_a_full_disk_is_one_line_not_a_traceback(tmp_path, command):
    path = write(tmp_path / "run.jsonl", header(), step(0), END)
    with open("/dev/full", "w") as full:
        done = subprocess.run([*VGRAD, command[0], str(path), *command[1:]], cwd=tmp_path, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == "vgrad-tui: error: cannot write to stdout (No space left on device)"


@pytest.mark.slow
def test_watch_exits_129_on_sighup_as_the_readme_says(tmp_path):
    path = write(tmp_path / "run.jsonl", header(), step(0))     # no end line: the watch goes on
    process = subprocess.Popen([*VGRAD, "watch", "--no-ui", str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("run.jsonl  step 0")
        process.send_signal(signal.SIGHUP)
        assert process.wait(timeout=60) == 129
    finally:
        process.kill()


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 130), (signal.SIGHUP, 129)])
def test_plot_killed_while_drawing_leaves_no_empty_figure(tmp_path, signum, code):
    path = write(tmp_path / "run.jsonl", header(), step(0), END)
    out = tmp_path / "out.png"
    process = subprocess.Popen([*VGRAD, "plot", str(path), "-o", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: out.exists() or process.poll() is not None)
        process.send_signal(signum)
        returned = process.wait(timeout=60)
    finally:
        process.kill()
    if out.exists():        # the signal came after the figure was whole (killed at the very end, or too late)
        assert out.stat().st_size > 0 and returned in (0, -signum)
    else:
        assert returned == code


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGHUP, 129), (signal.SIGTERM, 130)])
def test_the_watch_dashboard_exits_129_on_sighup_and_130_on_sigterm(tmp_path, signum, code):
    """On a pseudo-terminal, as over SSH: the dashboard is drawn, then the terminal goes away."""
    import pty
    import select

    path = write(tmp_path / "run.jsonl", header(), step(0))
    pid, fd = pty.fork()
    if pid == 0:                                         # the child: the dashboard on the pty
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [*VGRAD, "watch", str(path)])
    drawn = b""
    try:
        deadline = time.monotonic() + 60
        while b"run.jsonl" not in drawn:                 # the panel's title: the dashboard is up
            assert time.monotonic() < deadline, "the dashboard never appeared"
            if select.select([fd], [], [], 0.1)[0]:
                drawn += os.read(fd, 65536)
        os.kill(pid, signum)
        deadline = time.monotonic() + 60
        while not (ended := os.waitpid(pid, os.WNOHANG))[0]:
            assert time.monotonic() < deadline, "the dashboard did not end"
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
        assert os.waitstatus_to_exitcode(ended[1]) == code
    finally:
        os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


@pytest.mark.slow
def test_a_warning_that_cannot_be_written_does_not_fail_the_replay(tmp_path):
    """stderr on a full disk: the summary is on stdout; the warning is lost, not the exit status."""
    path = write(tmp_path / "run.jsonl", header(), step(0))     # cut short: a warning
    os.utime(path, (0, 0))
    with open("/dev/full", "w") as full:
        done = subprocess.run([*VGRAD, "replay", "--no-ui", str(path)], stdout=subprocess.PIPE, stderr=full,
                              text=True, timeout=120)
    assert done.returncode == 0 and "records read" in done.stdout   # the summary of a watched file


@pytest.mark.parametrize("line, reason", [
    ('{"type": "step", "net": 0, "step": true, "speed": [0.1, 0.2, 0.3], "neurons": [[], [], []], "cost": 1.0}',
     "step True is not a whole number"),
    ('{"type": "step", "net": 0, "step": 0.5, "speed": [0.1, 0.2, 0.3], "neurons": [[], [], []], "cost": 1.0}',
     "step 0.5 is not a whole number"),
    ('{"type": "step", "net": "0", "step": 1, "speed": [0.1, 0.2, 0.3], "neurons": [[], [], []], "cost": 1.0}',
     "net '0' is not a whole number"),
    ('{"type": "step", "net": 0, "step": 1, "speed": [0.1, -1.0, 0.3], "neurons": [[], [], []], "cost": 1.0}',
     "speed -1, outside 0…inf"),
    ('{"type": "step", "net": 0, "step": 1, "speed": [0.1, 0.2, 0.3], "neurons": [[], [], []], "cost": 1.0, '
     '"accuracy": 5.0}', "accuracy 5, outside 0…1"),
])
def test_a_step_with_a_value_no_writer_writes_is_named_and_the_rest_read(tmp_path, line, reason):
    from vgrad.core.record.reader import read_run

    run = read_run(write(tmp_path / "run.jsonl", header(), step(0), line))
    assert len(run.steps) == 1 and reason in run.warning


def test_oversized_neuron_lists_and_messages_are_cut_on_reading(tmp_path):
    """A file that asks for memory the format never needs: 500,000 neurons per layer are read as the
    first 6, a 2 MB message as its first 500 characters, so no view grows or stalls on them."""
    from vgrad.core.record.events import MESSAGE_SHOWN
    from vgrad.core.record.reader import read_run

    huge = json.dumps({"type": "step", "net": 0, "step": 1, "speed": [0.1, 0.2, 0.3],
                       "neurons": [[0.5] * 500_000] * 3, "cost": 1.0})
    message = json.dumps({"type": "event", "net": 0, "kind": "error", "message": "M" * 2_000_000})
    run = read_run(write(tmp_path / "run.jsonl", header(), step(0), huge, message))
    assert [len(layer) for layer in run.steps[-1].neurons] == [6, 6, 6]
    assert len(run.events[-1].message) == MESSAGE_SHOWN and run.events[-1].message.endswith("…")


@pytest.mark.parametrize("version", ["true", "2.0", "1" * 400])
def test_a_format_that_is_not_a_whole_known_number_is_refused_in_a_short_line(tmp_path, version):
    from vgrad.core.errors import InputError
    from vgrad.core.record.reader import read_run

    path = write(tmp_path / "run.jsonl", header().replace('"format": 2', f'"format": {version}'), step(0))
    with pytest.raises(InputError) as error:
        read_run(path)
    assert len(str(error.value)) < 250 and "format" in str(error.value)
