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
    floors = {"bare_1", "bare_full_10", "fused_1", "fused_full_10"}
    assert set(result["bare_percent"]) == set(result["floor_direct_percent"]) == floors
    assert all(result["floor_direct_percent"][name] > 0 for name in floors)
    parameters = 784 * 256 + 7 * 256 * 256 + 256 * 10 + 8 * 256 + 10
    assert result["memory"] is None or result["memory"]["parameter_bytes"] == 4 * parameters
    # every=1 spends time in watch.log at every step, every=10 at one in ten
    assert result["log_percent"]["every_1"] > result["log_percent"]["every_10"] > 0


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_the_latency_is_measured_from_write_to_board():
    latency = watch_latency(quick=True)
    assert latency["records"] == 10 and 0 < latency["median_s"] <= latency["max_s"]


def test_the_report_reads_each_watched_window_beside_the_floors(watch_figures):
    """The floors an exact reader pays (its norms; θ's copy and norms), by torch's ops and by fused
    kernels, are shown in the table with their time inside their own calls, and named in the
    targets' notes, measured in the same run."""
    from vgrad.bench.report import watch_table

    table = watch_table({"watch": watch_figures})
    rows = {row[0]: row[2:] for row in table.rows}
    assert rows["torch's norms alone, every step"] == ("+1.9 %", "1.7 %")
    assert rows["fused kernels' norms alone, every step"] == ("+1.2 %", "1.1 %")
    assert rows["torch's θ copy and norms alone, every 10th"] == ("+0.8 %", "0.7 %")
    assert rows["fused θ copy and norms alone, every 10th"] == ("+0.5 %", "0.4 %")
    notes = {target.key: target.note for target in _watch_targets(watch_figures)}
    assert "floor: torch +1.9 %, fused +1.2 %" in notes["watch_every_1"]
    assert "floor: torch +0.8 %, fused +0.5 %" in notes["watch_full_10"]


def test_a_figure_from_before_the_fused_floor_or_any_floor_still_renders(watch_figures):
    from vgrad.bench.report import watch_table

    del watch_figures["floor_direct_percent"]
    watch_figures["bare_percent"] = {"bare_1": 1.9, "bare_full_10": 0.8}   # before the fused floor
    rows = {row[0]: row[2:] for row in watch_table({"watch": watch_figures}).rows}
    assert rows["torch's norms alone, every step"] == ("+1.9 %", "") and len(rows) == 6
    assert "fused" not in "".join(target.note for target in _watch_targets(watch_figures))
    del watch_figures["bare_percent"]   # before any floor was measured
    assert len(watch_table({"watch": watch_figures}).rows) == 4
