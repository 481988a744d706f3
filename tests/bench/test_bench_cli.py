"""`vgrad-tui bench` as a user runs it (timings stubbed): tables or JSON, and the exit codes.

Plain `bench` is informational: exit 0 once measured, whatever the targets say.
`bench --check` exits 1 when a target FAILs; a wrong gradient exits 1 with nothing timed.
"""

import json

from typer.testing import CliRunner

from vgrad.bench import gate
from vgrad.bench.gate import Check
from vgrad.tui.cli import app

runner = CliRunner()


def test_json_is_one_document_with_the_verdicts(stubbed_bench):
    result = runner.invoke(app, ["bench", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True and len(report["targets"]) == 23  # 11, 7 of the two SIMD paths, 5 of vgrad.watch


def test_the_tables_name_every_target_with_its_verdict(stubbed_bench):
    result = runner.invoke(app, ["bench"])
    assert result.exit_code == 0, result.output
    assert "Targets" in result.stdout and "cold compile ≤ 15 s" in result.stdout
    assert result.stdout.count("PASS") == 23


def test_a_failed_target_is_reported_but_plain_bench_still_exits_0(stubbed_bench):
    stubbed_bench["warm_first_step_s"] = 2.0
    result = runner.invoke(app, ["bench"])
    assert result.exit_code == 0, result.output
    assert "FAIL" in result.stdout


def test_check_exits_1_naming_the_failed_target(stubbed_bench):
    stubbed_bench["warm_first_step_s"] = 2.0
    result = runner.invoke(app, ["bench", "--check", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["passed"] is False  # the measurements are still printed
    assert "1 target(s) FAIL: warm start to first step ≤ 1.5 s" in result.stderr


def test_check_exits_0_when_every_target_passes_or_is_skipped(stubbed_bench, monkeypatch):
    from vgrad.bench import run

    monkeypatch.setattr(run, "torch_version", lambda: None)
    result = runner.invoke(app, ["bench", "--check"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.stdout


def test_a_wrong_gradient_exits_1_and_times_nothing(stubbed_bench, monkeypatch):
    from vgrad.bench import run

    monkeypatch.setattr(run, "gate", gate.gate)
    monkeypatch.setattr(run, "torch_version", lambda: None)
    monkeypatch.setattr(gate, "check_engine", lambda problem, dtype: [Check("vgrad wrong", 0.5, 1e-10)])
    result = runner.invoke(app, ["bench", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "wrong result, no speed reported: vgrad wrong" in result.stderr
