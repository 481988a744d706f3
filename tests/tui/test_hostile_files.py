"""Files and arguments written to harm: a model's names, a damaged step, a bad --layers value.
Nothing a file holds reaches the terminal as a control sequence or as markup, and nothing
ends in a traceback."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vgrad.core.record.reader import read_run
from vgrad.tui.app import make_replay_app
from vgrad.tui.cli import app

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
    assert "[bold]x" in result.stdout and "[link=http://e]z" in result.stdout
    assert "error:\\x1b[31m[reverse]boom\\nsecond" in "".join(result.stdout.split())


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
        assert "[bold]x" in text and "a\\nb:[link=http://e]z = 1:4.0" in text

    drive(replay, scenario, size=(120, 36))


@pytest.mark.slow  # matplotlib: about 2 s
def test_plot_draws_names_matplotlib_would_read_as_mathtext_literally(tmp_path):
    out = tmp_path / "evil.png"
    result = cli.invoke(app, ["plot", str(evil_run(tmp_path)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and ESC not in result.output
