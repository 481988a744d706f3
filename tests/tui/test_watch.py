"""`vgrad-tui watch`: one line per record headless, the dashboard on followed files, bad files."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vgrad
from vgrad.core.run.board import Board
from vgrad.core.run.follow_runner import FollowRunner, plan
from vgrad.core.view.summary import headline_for
from vgrad.tui.cli import app
from vgrad.tui.watch_command import follow_lines, make_watch_app

FIXTURES = Path(__file__).parents[1] / "fixtures"
cli = CliRunner()


def deep_model(path: Path, layers: int = 12, steps: int = 30) -> Path:
    """A watched model whose gradient shrinks 4x per layer towards the input (made-up, deterministic)."""
    names = [f"blocks.{i}.linear" for i in range(layers - 1)] + ["head"]
    with vgrad.Recorder(path, names, name="DeepMLP") as recorder:
        for step in range(steps):
            speed = [0.3 * 0.25 ** (layers - 1 - layer) * (1 + 0.02 * step) for layer in range(layers)]
            recorder.log(step, speed=speed, weight_grad=[3 * s for s in speed], loss=2.3 - 0.01 * step,
                         neurons=[[s * (-1) ** j for j in range(6)] for s in speed])
    return path


def watching(paths, layers=None):
    specs, files = plan(paths, layers, clock=lambda: 0.0)
    board = Board(specs, 0)
    return board, FollowRunner(files, board, layers=layers)


def watch_app(paths, title="vgrad"):
    """The watch dashboard on `paths`, their files read once, its controls not started."""
    board, runner = watching(paths)
    runner.poll()
    return board, runner, make_watch_app(board, runner, title=title, start_controls=False)


def test_each_new_record_is_one_line_until_every_writer_has_ended(tmp_path):
    path = tmp_path / "run.jsonl"
    recorder = vgrad.Recorder(path, ["conv", "fc", "head"])
    recorder.log(0, speed=[0.001, 0.01, 0.1], loss=2.5)
    script = iter([lambda: recorder.log(1, speed=[0.002, 0.02, None]), recorder.close])
    lines = []
    board, runner = watching([path])
    code = follow_lines(runner, lines.append, wait=lambda seconds: next(script)())
    assert code == 0 and len(lines) == 2
    assert lines[0] == "run.jsonl  step 0  loss 2.50  conv 0.00100 fc 0.0100 head 0.100  conv → fc = 1:10"
    assert lines[1].endswith("head —  conv → fc = 1:10")     # the output layer is not in the headline


def test_a_writer_killed_without_its_end_line_ends_the_follow_with_a_note(tmp_path):
    """SIGKILL leaves no end line: once the file is quiet and no writer holds it, the follow ends."""
    from vgrad.core.guard import writer_holds
    from vgrad.core.run.follow_runner import WRITER_GONE

    path = deep_model(tmp_path / "run.jsonl", steps=2)
    path.write_text(path.read_text().rsplit("\n", 2)[0] + "\n")   # its writer died before the end line
    if writer_holds(path) is None:
        pytest.skip("this kernel does not list the file's locks (not Linux, or a shared filesystem)")
    board, runner = watching([path])
    runner.silent_after = 0.0
    lines, notes = [], []
    assert follow_lines(runner, lines.append, wait=lambda seconds: None, note=notes.append) == 0
    assert len(lines) == 2 and notes == [f"{path}: {WRITER_GONE}"]


def test_ctrl_c_ends_the_follow_with_130(tmp_path):
    path = deep_model(tmp_path / "run.jsonl", steps=1)
    path.write_text(path.read_text().rsplit("\n", 2)[0] + "\n")   # no end line: the writer goes on

    def interrupt(seconds):
        raise KeyboardInterrupt

    board, runner = watching([path])
    assert follow_lines(runner, lambda line: None, wait=interrupt) == 130


def test_a_file_not_there_yet_is_announced_once_and_again_when_it_appears(tmp_path):
    """A silent wait looks like a hang: stderr says what is waited for, once, and when it comes."""
    path = tmp_path / "mine.jsonl"
    script = iter([lambda: None, lambda: deep_model(path, steps=1)])
    notes, lines = [], []
    board, runner = watching([path])
    assert follow_lines(runner, lines.append, wait=lambda seconds: next(script)(), note=notes.append) == 0
    assert notes == [f"waiting for {path} (it does not exist yet; Ctrl+C to stop)", f"{path} appeared: following it"]
    assert len(lines) == 1


def test_watch_without_a_terminal_says_it_runs_headless_once(tmp_path):
    path = deep_model(tmp_path / "run.jsonl", steps=1)
    result = cli.invoke(app, ["watch", str(path)])
    assert result.exit_code == 0 and result.output.count("not a terminal") == 1


def test_a_file_that_is_not_a_run_is_named_in_one_line_with_exit_2(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    result = cli.invoke(app, ["watch", str(path), "--no-ui"])
    assert result.exit_code == 2 and str(path) in result.output and len(result.output.splitlines()) == 1


@pytest.mark.parametrize("args, reason", [(["--layers", "0,first"], "'first'"),
                                          (["--layers=--1"], "'--1'"), (["--layers", "²"], "'²'"),
                                          (["--layers", "1,,2"], "'' is not"),
                                          (["a", "b", "c", "d", "e"], "at most 4")])
def test_bad_watch_arguments_exit_2(tmp_path, args, reason):
    paths = [str(tmp_path / "a.jsonl")] if args[0].startswith("--") else [str(tmp_path / a) for a in args]
    options = args if args[0].startswith("--") else []
    result = cli.invoke(app, ["watch", *paths, *options, "--no-ui"])
    assert result.exit_code == 2 and reason in result.output and "Traceback" not in result.output


def test_replay_of_a_growing_file_says_so_and_points_to_watch(tmp_path, hold_as_writer):
    path = deep_model(tmp_path / "run.jsonl", steps=3)
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")   # no end line yet
    result = cli.invoke(app, ["replay", str(path), "--no-ui"])
    assert "still being written" not in result.output   # no writer holds it: it was cut short
    hold_as_writer(path)
    result = cli.invoke(app, ["replay", str(path), "--no-ui"])
    words = " ".join(result.output.split())
    assert "still being written" in words and "follow it live with `vgrad-tui watch" in words


def test_a_watched_twelve_layer_model(snap_compare, tmp_path):
    """A 12-layer model: the default selection (first two, middle, last two), named rows, its headline."""
    board, runner, app_ = watch_app([deep_model(tmp_path / "deep.jsonl")], title="vgrad — watching deep.jsonl")
    assert snap_compare(app_, terminal_size=(120, 36))


def test_a_live_file_beside_a_built_in_recording(snap_compare, tmp_path):
    """My model (still being written, no end line) next to the book's finished 4-hidden net."""
    live = deep_model(tmp_path / "mine.jsonl", layers=5)
    live.write_text("\n".join(live.read_text().splitlines()[:-1]) + "\n")
    book = tmp_path / "book.jsonl"
    rows = [json.loads(line) for line in (FIXTURES / "book3.jsonl").read_text().splitlines()]
    header = rows[0]
    header["nets"] = [net for net in header["nets"] if net["id"] == 2]
    header["nets"][0]["id"] = 0
    kept = [header] + [{**row, "net": 0} for row in rows[1:] if row.get("net") == 2] + [rows[-1]]
    book.write_text("".join(json.dumps(row) + "\n" for row in kept))
    board, runner, app_ = watch_app([live, book], title="vgrad — watching mine.jsonl, book.jsonl")
    assert snap_compare(app_, terminal_size=(120, 36))


@pytest.mark.slow  # 2-3 s: a Textual pilot drives several keys or a plot
def test_a_fifty_layer_model_opens_as_a_heatmap_and_m_gives_rows_that_scroll(tmp_path, drive):
    """Deeper than HEATMAP_DEPTH: one heatmap line per layer, first and last in view; `m`: a sparkline
    row per layer, the panels scroll, and the last layer's row can be scrolled into view."""
    board, runner, app_ = watch_app([deep_model(tmp_path / "deep.jsonl", layers=50, steps=3)])

    async def scenario(pilot):
        panel = app_.panels[0]
        app_.poll(force=True)
        await pilot.pause()
        assert panel.heatmap_mode and app_.query_one("#nets").region.contains_region(panel.heatmap.region)
        labels = [line[0][0].strip() for line in panel.heatmap.drawing[1:-1]]
        assert labels[0] == "b.0.linear" and labels[-1] == "head"      # named as every view names them
        await pilot.press("m")
        await pilot.pause()
        nets = app_.query_one("#nets")
        rows = panel.rows
        assert len(rows) == 50 and nets.max_scroll_y > 0
        assert rows[-1].region.y >= nets.region.bottom or not rows[-1].region      # off screen at first
        nets.scroll_end(animate=False)
        await pilot.pause()
        assert nets.region.contains_region(rows[-1].region) and "head" in rows[-1].label

    drive(app_, scenario, size=(100, 30))


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_a_watched_models_file_replays_and_plots_with_its_layer_names(tmp_path):
    path = deep_model(tmp_path / "deep.jsonl", layers=3, steps=4)
    result = cli.invoke(app, ["replay", str(path), "--no-ui"])
    words = " ".join(result.output.split())
    assert result.exit_code == 0 and "done · step 3 · b.0.linear → b.1.linear = 1:4.0" in words  # no output layer
    assert "head" in words and "h1" not in words
    result = cli.invoke(app, ["plot", str(path), "-o", str(tmp_path / "deep.png")])
    assert result.exit_code == 0 and (tmp_path / "deep.png").stat().st_size > 0


def built_in_alone(path: Path) -> Path:
    """booknet1.jsonl as is: the book's deep net run built in, 20 full-batch steps."""
    path.write_bytes((FIXTURES / "booknet1.jsonl").read_bytes())
    return path


def test_the_torch_book_net_and_the_built_in_one_show_the_same_headline(tmp_path):
    """Same initial weights, same full-batch steps: the watched net's headline leaves out its output
    layer (Linear 8) and compares Linear 0 with Linear 6, h1 with h4, to every digit it prints."""
    board, runner = watching([FIXTURES / "booktorch1.jsonl", built_in_alone(tmp_path / "book.jsonl")])
    runner.poll()
    torch_net, built_in = board.snapshot().nets
    for index in range(len(built_in.history)):
        watched = headline_for(torch_net.spec, torch_net.history[index])
        ours = headline_for(built_in.spec, built_in.history[index])
        assert watched.startswith("0 → 6 = ") and ours.startswith("h1:h4 = ")
        assert watched.partition(" = ")[2] == ours.partition(" = ")[2]


def test_the_torch_book_net_beside_the_built_in_one(snap_compare, tmp_path):
    """examples/torch_book_net.py watched, beside the same net built in: `0 → 6 = 1:88` and `h1:h4 = 1:88`."""
    board, runner, app_ = watch_app([FIXTURES / "booktorch1.jsonl", built_in_alone(tmp_path / "book.jsonl")],
                                    title="vgrad — watching booktorch1.jsonl, book.jsonl")
    assert snap_compare(app_, terminal_size=(120, 40))


def bias_free(path: Path, layers: int = 6, steps: int = 20) -> Path:
    """A model with no bias anywhere (Linear(bias=False), RMSNorm): only ‖∂L/∂W‖ is measured."""
    names = ["embed", *(f"layers.{i}.mlp" for i in range(layers - 2)), "lm_head"]
    with vgrad.Recorder(path, names, name="NoBias") as recorder:
        for step in range(steps):
            recorder.log(step, speed=[None] * layers, loss=3.0 - 0.05 * step,
                         weight_grad=[0.2 * 0.5 ** (layers - 1 - i) * (1 + 0.01 * step) for i in range(layers)])
    return path


def test_a_bias_free_model(snap_compare, tmp_path):
    """No bias gradient anywhere: the panel opens on ‖∂C/∂W‖ and says so; the bars say not recorded."""
    board, runner, app_ = watch_app([bias_free(tmp_path / "nobias.jsonl")], title="vgrad — watching nobias.jsonl")
    assert snap_compare(app_, terminal_size=(100, 30))


def test_a_bias_free_models_summary_and_lines_read_its_lens_never_a_dash(tmp_path):
    """A bias-free model's replay summary once titled itself `embed → layers.3.mlp = —`, and its
    watch lines named no lens: both read ‖∂C/∂W‖ and say so (the table's s_l row still shows, as
    dashes, that no bias gradient was measured)."""
    path = bias_free(tmp_path / "nobias.jsonl")
    summary = CliRunner().invoke(app, ["replay", str(path), "--no-ui"])
    title = summary.output.splitlines()[1]
    assert summary.exit_code == 0 and "‖∂C/∂W‖ embed → layers.3.mlp = 1:" in title and "—" not in title
    lines = []
    board, runner = watching([path])
    follow_lines(runner, lines.append, wait=lambda seconds: None)
    assert lines and all("  ‖∂C/∂W‖ embed " in line and line.split("  ")[-1].startswith("embed → ") for line in lines)


def test_every_name_of_a_layer_is_the_same_in_rows_bars_legend_and_headline(tmp_path, drive):
    """Long qualified names, shortened once for the whole panel: rows, bar columns, plot legend."""
    board, runner, app_ = watch_app([deep_model(tmp_path / "deep.jsonl", layers=5, steps=4)])

    async def scenario(pilot):
        app_.poll(force=True)
        await pilot.pause()
        panel = app_.panels[0]
        rows = [row.label.strip() for row in panel.rows]
        assert rows == ["b.0.linear", "b.1.linear", "b.2.linear", "b.3.linear", "head"]
        header = "".join(text for text, _ in panel.neuron_bars.lines[1]).split()
        assert all(name in rows for name in header) and header[-1] == "head"
        assert panel.border_subtitle.startswith(f"{rows[0]} → {rows[-2]} = ")
        await pilot.press("p")
        await pilot.pause()
        legend = str(app_.screen.query_one("#caption-0").render())
        assert all(f"━{name}" in legend for name in rows)
    drive(app_, scenario, size=(120, 40))


def test_watch_offers_no_training_keys_and_pauses_only_its_display(tmp_path, drive):
    """No restart or one step for a file someone else writes; space freezes the display while
    the board goes on, end comes back to live; ? describes the watch screen."""
    path = deep_model(tmp_path / "deep.jsonl", layers=3, steps=2)
    board, runner, app_ = watch_app([path])

    async def scenario(pilot):
        assert app_.check_action("restart", ()) is False and app_.check_action("step", ()) is False
        await pilot.press("space")
        shown = app_.view.version
        board.publish(replace(board.snapshot().nets[0].latest, step=99))
        app_.poll(force=True)
        assert app_.view.version == shown and "display paused" in app_.legend.mode
        await pilot.press("end")
        await pilot.pause()
        assert app_.view.version != shown and app_.view.nets[0].latest.step == 99 and not app_.legend.mode
        await pilot.press("question_mark")
        keys = {key for key, _ in app_.screen.keys}
        assert {"r", "n", "+", "home"}.isdisjoint(keys) and {"space", "end", "w", "m", "s"} <= keys
        assert ("end", "back to the live display after a pause") in app_.screen.keys   # one end key, named live
        assert app_.check_action("live", ()) and not app_.check_action("jump_end", ())   # the footer reads "end live"
        assert "the writer trains, this screen only reads" in app_.screen.about
    drive(app_, scenario)


def test_a_file_not_there_yet_is_waited_for_by_name_never_0_layers(tmp_path, drive):
    board, runner, app_ = watch_app([tmp_path / "later.jsonl"])

    async def scenario(pilot):
        await pilot.pause()
        panel = app_.panels[0]
        assert panel.border_title == "waiting for later.jsonl" and "0 layers" not in panel.border_title
    drive(app_, scenario)


def test_a_silent_writer_at_100x20_keeps_the_border_and_headline_on_screen(tmp_path, drive):
    path = deep_model(tmp_path / "deep.jsonl", layers=5, steps=3)
    board, runner = watching([path])
    runner.poll()
    board.set_state(0, "silent", "no new data for 12 s (is the writer still running?)")
    app_ = make_watch_app(board, runner, title="vgrad", start_controls=False)

    async def scenario(pilot):
        app_.poll(force=True)
        await pilot.pause()
        panel = app_.panels[0]
        assert app_.screen.region.contains_region(panel.region) and panel.border_subtitle
    drive(app_, scenario, size=(100, 20))


def test_quitting_the_dashboard_names_each_file_that_failed_and_exits_2(tmp_path, monkeypatch, capsys):
    from vgrad.tui import watch_command

    good, bad = deep_model(tmp_path / "good.jsonl", steps=1), tmp_path / "bad.jsonl"
    bad.write_text("not a run\n")
    board, runner = watching([good, bad])
    runner.poll()
    monkeypatch.setattr(watch_command, "run_dashboard", lambda app_: 0)
    assert watch_command.run_watch(board, runner, title="vgrad") == 2
    assert capsys.readouterr().err.splitlines() == [
        f"vgrad-tui: error: run file {bad}: not a vgrad run (line 1 is not a {{\"type\": \"run\"}} header)"]


@pytest.mark.slow  # 2-3 s: a Textual pilot drives several keys or a plot
def test_o_puts_a_watched_models_output_layer_into_the_headline_and_out_again(tmp_path, drive):
    board, runner, app_ = watch_app([deep_model(tmp_path / "deep.jsonl", layers=3, steps=2)])

    async def scenario(pilot):
        app_.poll(force=True)
        await pilot.pause()
        panel = app_.panels[0]
        assert str(panel.border_subtitle).startswith("b.0.linear → b.1.linear = ")
        await pilot.press("o")
        await pilot.pause()
        assert str(panel.border_subtitle).startswith("b.0.linear → head = ")
        await pilot.press("o")
        await pilot.pause()
        assert str(panel.border_subtitle).startswith("b.0.linear → b.1.linear = ")
    drive(app_, scenario)


def test_the_summary_of_a_watched_run_counts_the_records_read():
    """What quitting watch (or replay) prints: the headline, the last values, the records read."""
    result = cli.invoke(app, ["replay", "--no-ui", str(FIXTURES / "lenses_mlp.jsonl")])
    words = " ".join(result.output.split())
    assert result.exit_code == 0 and "net.0 → net.8 = 1:103" in words and "records read │ │ 40 │" in words
