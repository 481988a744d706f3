"""`vgrad-tui watch`: one line per record headless, the dashboard on followed files, bad files."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vgrad
from vgrad.core.run.board import Board
from vgrad.core.run.follow_runner import FollowRunner, plan
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
                                          (["a", "b", "c", "d", "e"], "at most 4")])
def test_bad_watch_arguments_exit_2(tmp_path, args, reason):
    paths = [str(tmp_path / "a.jsonl")] if args[0].startswith("--") else [str(tmp_path / a) for a in args]
    options = args if args[0].startswith("--") else []
    result = cli.invoke(app, ["watch", *paths, *options, "--no-ui"])
    assert result.exit_code == 2 and reason in result.output


def test_replay_of_a_growing_file_says_so_and_points_to_watch(tmp_path):
    path = deep_model(tmp_path / "run.jsonl", steps=3)
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")   # no end line yet
    result = cli.invoke(app, ["replay", str(path), "--no-ui"])
    words = " ".join(result.output.split())
    assert "still being written" in words and "follow it live with `vgrad-tui watch" in words


def test_a_watched_twelve_layer_model(snap_compare, tmp_path):
    """A 12-layer model: the default selection (first two, middle, last two), named rows, its headline."""
    board, runner = watching([deep_model(tmp_path / "deep.jsonl")])
    runner.poll()
    app_ = make_watch_app(board, runner, title="vgrad — watching deep.jsonl", start_controls=False)
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
    board, runner = watching([live, book])
    runner.poll()
    app_ = make_watch_app(board, runner, title="vgrad — watching mine.jsonl, book.jsonl", start_controls=False)
    assert snap_compare(app_, terminal_size=(120, 36))


def test_a_fifty_layer_model_opens_as_a_heatmap_and_m_gives_rows_that_scroll(tmp_path, drive):
    """Deeper than HEATMAP_DEPTH: one heatmap line per layer, first and last in view; `m`: a sparkline
    row per layer, the panels scroll, and the last layer's row can be scrolled into view."""
    board, runner = watching([deep_model(tmp_path / "deep.jsonl", layers=50, steps=3)])
    runner.poll()
    app_ = make_watch_app(board, runner, title="vgrad", start_controls=False)

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
