"""The bench's vgrad.watch section: its targets judged on the measured figures, and a real quick run."""

import pytest

from vgrad.bench.measures.watch_cost import watch_latency, watch_overhead
from vgrad.bench.targets import _watch_targets


def verdicts(watch):
    return {target.key: target.passed for target in _watch_targets(watch)}


def test_the_watch_targets_follow_the_measured_overhead_and_latency(watch_figures):
    keys = ("watch_every_1", "watch_every_10", "watch_full_10", "watch_memory", "watch_latency")
    assert verdicts(watch_figures) == dict.fromkeys(keys, True)
    slow = watch_figures
    slow["extra_percent"] = {"every_1": 12.0, "every_10": 1.5, "full_10": 2.5}
    slow["memory"]["peak_copies"] = 1.2
    slow["latency"]["max_s"] = 0.45
    assert verdicts(slow) == dict.fromkeys(keys, False)
    slow["memory"] = None     # no /proc here: not measured, no target
    assert "watch_memory" not in verdicts(slow)
    assert _watch_targets(None) == []


@pytest.mark.slow
def test_a_quick_measurement_carries_every_field():
    pytest.importorskip("torch")
    result = watch_overhead(quick=True)
    assert set(result["step_s"]) == {"off", "every_1", "every_10", "full_10"}
    assert all(v > 0 for v in result["step_s"].values())
    assert set(result["extra_percent"]) == {"every_1", "every_10", "full_10"}
    assert set(result["bare_percent"]) == {"bare_1", "bare_full_10"}
    parameters = 784 * 256 + 7 * 256 * 256 + 256 * 10 + 8 * 256 + 10
    assert result["memory"] is None or result["memory"]["parameter_bytes"] == 4 * parameters
    # every=1 spends time in watch.log at every step, every=10 at one in ten
    assert result["log_percent"]["every_1"] > result["log_percent"]["every_10"] > 0


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_the_latency_is_measured_from_write_to_board():
    latency = watch_latency(quick=True)
    assert latency["records"] == 10 and 0 < latency["median_s"] <= latency["max_s"]


def test_the_report_reads_each_watched_window_beside_torchs_own_ops_alone(watch_figures):
    """The floor an exact reader pays with torch's ops (its norms; θ's copy and norms) is shown
    in the table and named in the targets' notes, measured in the same rounds."""
    from vgrad.bench.report import watch_table

    table = watch_table({"watch": watch_figures})
    rows = {row[0]: row for row in table.rows}
    assert rows["torch's norms alone, every step"][2] == "+1.9 %"
    assert rows["torch's θ copy and norms alone, every 10th"][2] == "+0.8 %"
    notes = {target.key: target.note for target in _watch_targets(watch_figures)}
    assert "torch's norms alone +1.9 %" in notes["watch_every_1"]
    assert "torch's θ copy and norms alone +0.8 %" in notes["watch_full_10"]
    del watch_figures["bare_percent"]   # a figure from before the floor was measured
    assert len(watch_table({"watch": watch_figures}).rows) == 4
