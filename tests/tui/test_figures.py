"""`vgrad-tui plot`: the book's figures from a recording, as PNG or SVG; bad paths exit 2."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vgrad.tui.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "run.jsonl"
    result = runner.invoke(app, ["run", "--no-ui", "--epochs", "5", "--net", "784-30-30-10",
                                 "--net", "784-1-1-1-1-10:explode", "--record", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_writes_the_figure(recording, tmp_path, suffix, magic):
    out = tmp_path / f"speed{suffix}"
    result = runner.invoke(app, ["plot", str(recording), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


def test_the_svg_shows_each_net_and_the_saturation_note(recording, tmp_path):
    out = tmp_path / "speed.svg"
    runner.invoke(app, ["plot", str(recording), "-o", str(out)])
    text = out.read_text()
    assert "784-30-30-10" in text and "784-1-1-1-1-10:explode" in text and "saturated" in text


@pytest.mark.parametrize("args, culprit", [
    (["-o", "fig.gif"], ".png, .svg or .pdf"), (["-o", "/no/such/dir/fig.png"], "does not exist"),
])
def test_bad_output_paths_exit_2(recording, args, culprit):
    result = runner.invoke(app, ["plot", str(recording), *args])
    assert result.exit_code == 2 and culprit in result.output


def test_plot_refuses_a_file_that_is_not_a_run(tmp_path):
    bogus = tmp_path / "x.jsonl"
    bogus.write_text("{}\n")
    result = runner.invoke(app, ["plot", str(bogus), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "not a vgrad run" in result.output


@pytest.mark.parametrize("neurons", ["1", "13", "1000000000"])
def test_chain_refuses_a_length_outside_2_to_12(neurons):
    result = runner.invoke(app, ["chain", "--neurons", neurons])
    assert result.exit_code == 2 and f"--neurons {neurons}: a chain has 2 to 12 neurons" in result.output


def test_plot_through_the_weight_lens_draws_weight_grad(tmp_path):
    """--lens weight: the same figure of ‖∂C/∂W^l‖, titled so."""
    fixture = Path(__file__).parents[1] / "fixtures" / "lenses2.jsonl"
    out = tmp_path / "weight.svg"
    result = runner.invoke(app, ["plot", str(fixture), "-o", str(out), "--lens", "weight"])
    assert result.exit_code == 0, result.output
    assert "weight lens" in out.read_text()


def test_plot_refuses_an_unknown_lens(tmp_path):
    result = runner.invoke(app, ["plot", "any.jsonl", "-o", str(tmp_path / "x.png"), "--lens", "gamma"])
    assert result.exit_code == 2 and "--lens 'gamma'" in result.output
