"""The targets: each judged PASS, FAIL or skipped on the figures of one run."""

import pytest

from vgrad.bench import targets
from vgrad.bench.targets import Target


def result(**experiment):
    exp = {"scale": 1.0, "epochs": 500, "engine_2_cores_s": 2.0, "numpy_2_cores_s": 2.5,
           "two_thread_scaling": 1.8, "command_s": 2.6}
    exp.update(experiment)
    return {
        "ratios": {"float64": {"10": {"numpy": 2.0, "book": 14.0, "torch": None}}},
        "engine_share_of_matmul": {"float64": 0.75},
        "torch": None,
        "experiment": exp,
        "startup": {"warm_first_step_s": 0.8, "cold_compile_s": 9.0},
    }


def test_targets_pass_fail_or_skip():
    verdicts = {t.key: t.passed for t in targets.targets(result())}
    assert verdicts == {"numpy_batch10": True, "book_batch10": False, "torch_batch10": None,
                        "matmul_share": True, "two_threads": True, "experiment_time": True,
                        "experiment_vs_numpy": False, "command_vs_numpy": False, "warm_start": True,
                        "cold_compile": True}


@pytest.mark.parametrize("measured, higher, passed", [
    (1.8, True, True), (1.79, True, False), (3.0, False, True), (3.01, False, False),
    (float("nan"), True, None), (float("inf"), False, None), (None, True, None),
])
def test_a_target_is_met_at_its_threshold_and_skipped_when_not_measured(measured, higher, passed):
    limit = 1.8 if higher else 3.0
    assert Target("k", "t", measured, limit, "x", higher_is_better=higher).passed is passed


def test_a_quick_run_extrapolates_the_experiment_to_500_epochs():
    found = {t.key: t for t in targets.targets(result(scale=20.0, epochs=25, engine_2_cores_s=0.1,
                                                       numpy_2_cores_s=0.2, command_s=1.0))}
    assert found["experiment_time"].measured == pytest.approx(2.0)
    # command: 1.0 s once + 19 more chunks of 0.1 s = 2.9 s, against numpy's 20 × 0.2 = 4 s
    assert found["command_vs_numpy"].measured == pytest.approx(4.0 / 2.9)
    assert "extrapolated" in found["command_vs_numpy"].note


def test_failed_names_only_the_targets_that_fail():
    judged = {"targets": [t.as_dict() for t in targets.targets(result())]}
    assert targets.failed(judged) == [
        "vgrad ≥ 15× the book's per-example algorithm at batch 10",
        "three-net experiment ≥ 1.4× batched numpy (2 cores)",
        "whole command (start-up, warm cache) beats numpy's compute time",
    ]


@pytest.mark.parametrize("seconds, passed", [(30.0, True), (30.5, False)])
def test_the_accuracy_table_takes_at_most_30_s_for_30_epochs(seconds, passed):
    figures = {**result(), "accuracy": {"seconds_30_epochs": seconds, "dtype": "float32", "epochs": 3}}
    found = {t.key: t for t in targets.targets(figures)}
    assert found["accuracy_time"].passed is passed and "extrapolated from 3 epochs" in found["accuracy_time"].note
