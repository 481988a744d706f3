"""The command line as a user meets it: help, headless runs, files, and exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vgrad.core.record.reader import read_run
from vgrad.tui.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).parents[1] / "fixtures"


def invoke(*args):
    """Run like the console script does: bare options mean the `run` command."""
    argv = list(args)
    from vgrad.tui.cli import SUBCOMMANDS, TOP_LEVEL_OPTIONS
    if not argv or argv[0] not in (*SUBCOMMANDS, *TOP_LEVEL_OPTIONS):
        argv.insert(0, "run")
    return runner.invoke(app, argv)


def test_help_lists_every_command_with_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "replay", "reproduce"):
        assert command in result.output
    assert "Examples:" in result.output and "vgrad-tui replay run.jsonl" in result.output


def test_top_level_help_shows_runs_options_with_their_allowed_values():
    """Bare options go to run, so its options are on the first page a user sees,
    placeholders list what is allowed, and no description is cut off with '...'."""
    from vgrad.core.lab.presets import PRESETS
    from vgrad.core.spec import ACTIVATIONS

    output = invoke("--help").output
    assert "Options of run, the default command" in output
    for shown in ("--net SPEC", "--mode [speed|sgd]", f"--preset [{'|'.join(PRESETS)}]",
                  f"--activation [{'|'.join(ACTIVATIONS)}]", "--dtype [float64|float32]"):
        assert shown in output
    assert "<list[str]>" not in output and "<str>" not in output
    described = [line for line in output.splitlines() if not line.startswith("Usage:")]
    assert not any(line.rstrip().endswith("...") for line in described)


@pytest.mark.parametrize("command", ["run", "replay", "watch", "reproduce", "bench", "plot", "chain"])
def test_every_commands_help_has_examples(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and f"vgrad-tui {command}" in result.output



@pytest.mark.parametrize("command", ["run", "replay", "watch", "reproduce", "bench", "plot", "chain"])
def test_arguments_are_listed_by_their_placeholder_not_typers_type(command):
    """`watch --help` once listed `RUN.jsonl <list[Path]>`."""
    output = runner.invoke(app, [command, "--help"]).output
    assert "<" not in output.replace("<=", ""), output


@pytest.mark.parametrize("args, culprit", [
    (["plot", "run.jsonl"], "missing option '-o' / '--output'; vgrad-tui plot -h lists the options"),
    (["replay"], "missing argument 'RUN.jsonl'"),
    (["watch"], "missing argument 'RUN.jsonl'"),
    (["--epochs", "x"], "invalid value for '--epochs'"),
    (["--bogus"], "no such option: --bogus; vgrad-tui run -h lists the options"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, culprit):
    """click's own errors (usage, hint, then the error) read like vgrad's: one line."""
    result = invoke(*args)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"vgrad-tui: error: {culprit}"), line


@pytest.mark.parametrize("args, meant", [
    (["--net", "784-30-10:rleu"], "relu"), (["--activation", "rleu"], "relu"), (["--preset", "remedie"], "remedies"),
    (["--data", "digit"], "digits"), (["--mode", "sdg"], "sgd"), (["--dtype", "float63"], "float64"),
    (["--init", "xaiver"], "xavier"), (["--cost", "quadratc"], "quadratic"),
])
def test_a_misspelt_word_gets_did_you_mean(args, meant):
    result = invoke(*args, "--no-ui")
    assert result.exit_code == 2 and result.output.strip().endswith(f"; did you mean {meant}?"), result.output


def test_a_misspelt_command_gets_did_you_mean(capsys):
    from vgrad.tui.cli import run_cli

    with pytest.raises(SystemExit) as leaving:
        run_cli(["replya", "x"])
    assert leaving.value.code == 2 and capsys.readouterr().err.strip().endswith("did you mean replay?")


@pytest.mark.parametrize("option", ["--record", "--csv"])
def test_an_output_that_is_a_folder_says_so_before_asking_for_force(tmp_path, option):
    result = invoke(option, str(tmp_path), "--no-ui")
    assert result.exit_code == 2
    expected = f"vgrad-tui: error: {option} {tmp_path}: is a folder; give the name of a file to write"
    assert result.output.strip() == expected


def test_plot_to_a_folder_says_so(tmp_path):
    folder = tmp_path / "fig.png"
    folder.mkdir()
    result = invoke("plot", str(FIXTURES / "book3.jsonl"), "-o", str(folder))
    assert result.exit_code == 2 and "is a folder" in result.output

@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_printed_with_exit_0(flag):
    from vgrad.core import __version__

    result = invoke(flag)
    assert result.exit_code == 0 and result.output.strip() == f"vgrad-tui {__version__}"


@pytest.mark.parametrize("typo, suggestion", [("--bogus", None), ("--epoch", "--epochs"),
                                              ("--actvation", "--activation")])
def test_an_unknown_option_suggests_only_options_that_look_like_it(typo, suggestion):
    """--bogus shares only its dashes with --cost: no suggestion; a real typo gets its option."""
    result = invoke(typo)
    assert result.exit_code == 2 and f"no such option: {typo}" in result.output
    if suggestion is None:
        assert "did you mean" not in result.output
    else:
        assert f"did you mean {suggestion}?" in result.output


@pytest.mark.parametrize("args, culprit", [
    (["--net", "784-30-x-10"], "'x'"),
    (["--net", "100-30-10"], "input width 100"),
    (["--net", "784-30-10"] * 5, "at most 4"),
    (["--eta", "0"], "--eta"),
    (["--epochs", "-1"], "--epochs"),
    (["--mode", "fast"], "--mode 'fast'"),
    (["--preset", "nope"], "preset 'nope'"),
    (["--data", "/no/such/mnist"], "/no/such/mnist"),
    (["--mode", "sgd", "--batch-size", "5000"], "--batch-size 5000"),
    (["--record", "/no/such/dir/run.jsonl"], "--record /no/such/dir/run.jsonl"),
    (["--activation", "swish"], "swish"),
    (["--net", "784-²-10"], "'²'"),
    (["--net", "784-٣٠-10"], "'٣٠'"),
    (["--seed", "-1"], "--seed -1"),
    (["--eta", "inf"], "--eta inf"),
    (["--lmbda", "inf"], "--lmbda inf"),
    (["--clip", "nan"], "--clip nan"),
    (["--explode-w", "nan"], "--explode-w nan"),
    (["--explode-w", "-inf"], "--explode-w -inf"),
    (["--epochs", "1000000000000"], "--epochs 1000000000000"),
    (["--batch-size", "1000000000"], "--batch-size 1000000000"),
    (["--net", "784-100000-100000-10"], "GiB available"),
    (["--net", "784-30-20-10:residual"], "no layer would get a skip"),
])
def test_bad_input_is_one_line_and_exit_2(args, culprit):
    result = invoke(*args, "--no-ui")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0], result.output


@pytest.mark.parametrize("args, culprit", [
    (["--seeds", "0"], "--seeds 0"),
    (["--seeds", "100000000000"], "--seeds 100000000000: give 1 to 10,000"),
    (["--epochs", "-1"], "--epochs -1"),
    (["--epochs", "99999999999"], "--epochs 99999999999: give 0 to"),
])
def test_reproduce_refuses_seeds_and_epochs_out_of_range_before_any_work(args, culprit):
    result = runner.invoke(app, ["reproduce", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0], result.output


def test_reproduce_on_data_the_book_nets_cannot_read_is_one_line_and_exit_2():
    result = invoke("reproduce", "--data", "digits", "--seeds", "1", "--epochs", "0")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [   # the data is the user's choice, and named: not the book's net
        "vgrad-tui: error: --data digits: 64 inputs and 10 classes; the book's nets read MNIST's 784 pixels and "
        "10 digits (use mnist or a full MNIST file)"]


def test_headless_run_writes_a_table_a_recording_and_a_csv(tmp_path):
    record, table = tmp_path / "run.jsonl", tmp_path / "run.csv"
    result = invoke("--no-ui", "--epochs", "4", "--record", str(record), "--csv", str(table))
    assert result.exit_code == 0, result.output
    assert "784-30-30-30-30-10" in result.output and "h1:h4 = 1:" in result.output
    recording = read_run(record)
    assert recording.warning is None and len(recording.steps) == 3 * 5   # epochs 0 … 4
    assert len(table.read_text().splitlines()) == 1 + 3 * 5


def test_sgd_mode_reports_accuracy(tmp_path):
    result = invoke("--no-ui", "--mode", "sgd", "--epochs", "1", "--net", "784-30-10", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.output and "%" in result.output
    assert "h1:h1" not in result.output  # one hidden layer: no headline


def test_replay_no_ui_prints_the_final_table(tmp_path):
    record = tmp_path / "run.jsonl"
    assert invoke("--no-ui", "--epochs", "3", "--net", "784-30-30-10", "--record", str(record)).exit_code == 0
    result = invoke("replay", str(record), "--no-ui")
    assert result.exit_code == 0 and "784-30-30-10" in result.output


def test_replay_refuses_a_file_that_is_not_a_run(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello\n")
    result = invoke("replay", str(bogus), "--no-ui")
    assert result.exit_code == 2 and "not a vgrad run" in result.output


@pytest.mark.parametrize("command", ["replay", "plot"])
def test_a_run_file_from_a_newer_vgrad_is_refused_in_one_line(tmp_path, command):
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"type": "run", "format": 99, "nets": []}) + "\n")
    options = ["--no-ui"] if command == "replay" else ["-o", str(tmp_path / "speed.png")]
    result = invoke(command, str(newer), *options)
    assert result.exit_code == 2 and "newer vgrad" in result.output and "Traceback" not in result.output


def test_reproduce_json_is_one_document():
    result = runner.invoke(app, ["reproduce", "--seeds", "2", "--epochs", "0", "--json"])
    document = json.loads(result.stdout)
    assert [net["spec"] for net in document["nets"]] == ["784-30-30-10", "784-30-30-30-10", "784-30-30-30-30-10"]
    assert {"layers", "adjacent_ratio", "passed", "ordered_seeds"} <= set(document["nets"][0])


@pytest.mark.slow
def test_piped_output_has_no_control_codes(tmp_path):
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([sys.executable, "-c", "from vgrad.tui import main; main()", "--no-ui", "--epochs", "2",
                           "--net", "784-30-30-10"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "784-30-30-10" in done.stdout


@pytest.mark.slow
def test_the_command_exits_fast_and_keeps_every_record_and_its_exit_code(tmp_path):
    """main() leaves with os._exit after the run: the recording is complete, stdout is flushed
    through a pipe, and bad input still exits 2."""
    record = tmp_path / "run.jsonl"
    launch = [sys.executable, "-c", "from vgrad.tui import main; main()"]
    done = subprocess.run(launch + ["--no-ui", "--epochs", "3", "--net", "784-30-30-10", "--record", str(record)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "784-30-30-10" in done.stdout
    run = read_run(record)
    assert [step.epoch for step in run.steps] == [0, 1, 2, 3]   # speed mode: once more after the last step
    assert run.end.status == "complete" and run.warning is None
    bad = subprocess.run(launch + ["--no-ui", "--epochs", "-1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--epochs" in bad.stderr


@pytest.mark.parametrize("code, status", [(None, 0), (0, 0), (2, 2), (130, 130), ("a message", 1)])
def test_exit_status_follows_system_exit(code, status):
    from vgrad.tui import exit_status

    assert exit_status(code) == status


@pytest.mark.parametrize("raised, told", [(KeyboardInterrupt, True), (SystemExit(2), False), (ValueError, False)])
def test_an_interrupt_typer_turns_into_exit_130_is_recognised_so_that_main_can_say_so(raised, told):
    """typer ends a command interrupted outside its own handling (reproduce, bench) with 130 and no word."""
    import typer

    from vgrad.tui import _typer_caught_ctrl_c

    tiny = typer.Typer()

    @tiny.command()
    def go() -> None:
        raise raised

    try:
        tiny(args=[], prog_name="tiny")
    except SystemExit as exit_:
        assert _typer_caught_ctrl_c(exit_) is told
        assert exit_.code == 130 or not told
    except ValueError:
        assert not told


def test_without_a_terminal_the_dashboard_falls_back_to_headless_with_a_note(tmp_path):
    """Piped or scripted (as under CliRunner) there are no keys to read and no screen to draw."""
    result = invoke("--epochs", "2", "--net", "784-30-30-10")
    assert result.exit_code == 0
    assert "not a terminal: running headless" in result.output and "h1:h2 = " in result.output
    record = tmp_path / "run.jsonl"
    invoke("--epochs", "2", "--net", "784-30-30-10", "--no-ui", "--record", str(record))
    replayed = runner.invoke(app, ["replay", str(record)])
    assert replayed.exit_code == 0 and "not a terminal" in replayed.output


def test_chain_without_a_terminal_is_refused_in_one_line_before_the_explorer_loads(monkeypatch):
    monkeypatch.setitem(sys.modules, "vgrad.tui.chain.app", None)   # importing it now fails
    result = runner.invoke(app, ["chain"])
    assert result.exit_code == 2 and "needs a terminal" in result.output


@pytest.mark.slow
def test_a_reader_that_goes_away_gives_141_and_the_recording_stays_complete(tmp_path):
    """`vgrad-tui … | true`: the table meets a closed pipe; that is not a failed run."""
    record = tmp_path / "run.jsonl"
    process = subprocess.Popen([sys.executable, "-c", "from vgrad.tui import main; main()", "--no-ui",
                                "--epochs", "2", "--net", "784-30-30-10", "--record", str(record)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process.stdout.close()
    assert process.wait(timeout=120) == 141
    assert read_run(record).end.status == "complete"
    json_out = subprocess.Popen([sys.executable, "-c", "from vgrad.tui import main; main()", "reproduce",
                                 "--seeds", "1", "--epochs", "2", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    json_out.stdout.close()
    assert json_out.wait(timeout=120) == 141  # a JSON document meets the pipe the same way


def test_an_unknown_command_is_named_with_the_list_of_commands(capsys):
    from vgrad.tui.cli import run_cli

    with pytest.raises(SystemExit) as exit_:
        run_cli(["bogus"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "no command 'bogus'" in error and "replay" in error and len(error.strip().splitlines()) == 1


def as_on_a_terminal(monkeypatch, pilot) -> None:
    """The CLI as on a terminal: its dashboard runs headless, driven by `pilot` (an async
    function of a textual Pilot), so the code after the dashboard runs as it would for a user."""
    from textual.app import App

    from vgrad.tui.app import VgradApp

    monkeypatch.setattr("vgrad.tui.console.headless_unless_terminal", lambda no_ui: False)
    monkeypatch.setattr(VgradApp, "run", lambda app: App.run(app, headless=True, auto_pilot=pilot))


def test_replay_then_q_prints_the_summary_as_a_live_run_does(monkeypatch):
    """Quitting the replay dashboard leaves the recording's summary table behind."""
    async def press_q(pilot):
        await pilot.press("q")

    as_on_a_terminal(monkeypatch, press_q)
    result = runner.invoke(app, ["replay", str(FIXTURES / "book3.jsonl")])
    assert result.exit_code == 0
    assert "784-30-30-30-30-10" in result.output and "h1:h4" in result.output


def test_zero_epochs_print_the_measurement_at_initialisation():
    """--epochs 0 trains nothing but still measures s_l at init, so no row reads —."""
    result = invoke("--epochs", "0", "--net", "784-30-30-10", "--no-ui")
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines() if line.startswith(("│ h1 ", "│ h2 ", "│ cost"))]
    assert len(rows) == 3 and not any("—" in row for row in rows)


def test_quitting_the_dashboard_mid_run_records_the_run_as_stopped(monkeypatch, tmp_path):
    """q stops every net: the run file ends "stopped", not "complete" (that is for runs that end by themselves)."""
    async def train_then_q(pilot):
        while not all(net.latest for net in pilot.app.board.snapshot().nets):  # the nets train
            await pilot.pause(0.01)
        await pilot.press("q")

    as_on_a_terminal(monkeypatch, train_then_q)
    record = tmp_path / "run.jsonl"
    result = invoke("--net", "784-30-30-10", "--epochs", "100000", "--record", str(record))
    assert result.exit_code == 0 and "stopped" in result.output
    assert read_run(record).end.status == "stopped"


@pytest.mark.slow  # two headless runs
def test_a_preset_chooses_its_settings_where_the_user_gives_none(tmp_path):
    """--preset exploding runs at η = 0.01 (at the book's 0.1 the chain saturates at epoch 1);
    an --eta given on the command line wins."""
    for args, eta in (([], 0.01), (["--eta", "0.05"], 0.05)):
        out = tmp_path / f"run{eta}.jsonl"
        result = invoke("--preset", "exploding", "--epochs", "0", "--no-ui", "--record", str(out), *args)
        assert result.exit_code == 0, result.output
        assert read_run(out).config.eta == eta


@pytest.mark.parametrize("kept, line", [
    ([], "interrupted: only the summary above is kept (--record FILE.jsonl keeps every step)"),
    (["run.jsonl"], "interrupted: what was measured is kept in run.jsonl"),
    (["run.jsonl", "run.csv"], "interrupted: what was measured is kept in run.jsonl and run.csv"),
])
def test_an_interrupted_run_names_only_what_it_kept(kept, line):
    """Ctrl+C without --record once said "what was measured is kept", of nothing."""
    from vgrad.tui.cli import interrupted_line

    assert interrupted_line(kept) == line


@pytest.mark.slow  # two headless runs
@pytest.mark.parametrize("cached, said", [(True, "loading the numba kernels…"), (False, "compiling numba kernels")])
def test_the_start_up_says_compiling_only_when_it_compiles(monkeypatch, cached, said):
    monkeypatch.setattr("vgrad.tui.cli.kernels_cached", lambda dtype: cached)
    result = invoke("--epochs", "0", "--no-ui", "--net", "784-30-10")
    assert result.exit_code == 0 and said in result.output
    assert ("compiling" in result.output) is not cached


@pytest.mark.parametrize("where, signum, code", [("vgrad.core.data.load_dataset", 2, 130),
                                                 ("vgrad.tui.cli.claim_outputs", 15, 130),
                                                 ("vgrad.tui.cli.claim_outputs", 1, 129),
                                                 ("vgrad.core.run.session.open_session", 15, 130)])
def test_a_signal_during_the_start_up_ends_it_cleanly_and_leaves_no_empty_file(tmp_path, monkeypatch, where,
                                                                             signum, code, mnist):
    """SIGINT, SIGTERM or SIGHUP while the data loads, the files are claimed or the engine opens:
    exit 130 (129) with one line, and no empty run file left behind (it was 0 bytes, unreadable)."""
    import importlib
    import signal

    module, _, name = where.rpartition(".")
    real = getattr(importlib.import_module(module), name)

    def then_a_signal(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signum)
        return result

    monkeypatch.setattr(where, then_a_signal)
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    record = tmp_path / "run.jsonl"
    result = invoke("--no-ui", "--epochs", "2", "--record", str(record))
    assert result.exit_code == code and "interrupted before the first step" in result.output, result.output
    assert not record.exists()
    assert {number: signal.getsignal(number) for number in before} == before   # handed back
