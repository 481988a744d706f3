"""`run_bench` end to end with fixed timings: the JSON document carries every field, judged consistently."""

import json

import pytest

from vgrad.bench.run import run_bench

TOP = {"schema", "quick", "net", "threads", "machine", "torch", "correctness", "throughput", "ratios",
       "matmul", "engine_share_of_matmul", "experiment", "startup", "accuracy", "paths", "watch",
       "background_load_cores",
       "targets", "passed"}
MACHINE = {"cpu", "cores", "os", "python", "numpy", "numba", "scipy", "torch", "blas", "avx512", "simd_path"}
ROW = {"peer", "dtype", "batch", "examples_per_second", "gflops", "gflops_performed", "note"}
EXPERIMENT = {"nets", "epochs", "scale", "gflop", "engine_1_thread_s", "engine_2_cores_s", "numpy_2_cores_s",
              "speedup_2_cores", "two_thread_scaling", "command_s", "command"}
TARGETS = {"numpy_batch10", "book_batch10", "torch_batch10", "matmul_share", "two_threads", "experiment_time",
           "experiment_vs_numpy", "command_vs_numpy", "warm_start", "cold_compile", "accuracy_time",
           "avx512_cold_compile", "avx2_float64_b10", "avx2_float32_b10", "avx2_float64_b1000", "avx2_float32_b1000",
           "avx2_experiment", "avx2_cold_compile",
           "watch_every_1", "watch_every_10", "watch_full_10", "watch_memory", "watch_latency"}


@pytest.mark.parametrize("quick", [False, True])
def test_the_result_carries_every_field_as_json(mnist, stubbed_bench, quick):
    report = json.loads(json.dumps(run_bench(mnist, quick=quick)))
    assert set(report) == TOP
    assert report["quick"] is quick and report["net"] == "784-30-30-30-30-10"
    assert MACHINE <= set(report["machine"])
    assert {(r["peer"], r["dtype"], r["batch"]) for r in report["throughput"]} == {
        (peer, dtype, batch) for peer in ("vgrad", "numpy", "book", "torch")
        for dtype in ("float64", "float32") for batch in (10, 1000)}
    assert all(set(row) == ROW for row in report["throughput"])
    assert set(report["experiment"]) == EXPERIMENT
    assert report["experiment"]["epochs"] == (25 if quick else 500)
    assert set(report["startup"]) == {"cold_compile_s", "warm_first_step_s"}
    assert {t["key"] for t in report["targets"]} == TARGETS


def test_ratios_and_shares_come_from_the_measured_rates(mnist, stubbed_bench):
    report = run_bench(mnist)
    assert report["ratios"]["float64"]["10"] == pytest.approx({"numpy": 5.0, "book": 20.0, "torch": 10.0})
    assert report["ratios"]["float32"]["1000"]["numpy"] == pytest.approx(600_000 / 250_000)
    assert report["engine_share_of_matmul"]["float64"] == pytest.approx(60.0 / 50.0)
    assert report["experiment"]["speedup_2_cores"] == pytest.approx(2.2 / 1.3)


def test_every_target_passes_on_good_figures(mnist, stubbed_bench):
    report = run_bench(mnist)
    assert report["passed"] is True and all(t["passed"] for t in report["targets"])


def test_a_slow_experiment_fails_its_target_and_the_run(mnist, stubbed_bench):
    stubbed_bench["engine_2_cores_s"] = 3.5
    report = run_bench(mnist)
    verdicts = {t["key"]: t["passed"] for t in report["targets"]}
    assert verdicts["experiment_time"] is False and verdicts["warm_start"] is True
    assert report["passed"] is False


def test_without_torch_its_rows_and_target_are_skipped_not_failed(mnist, stubbed_bench, monkeypatch):
    from vgrad.bench import run

    monkeypatch.setattr(run, "torch_version", lambda: None)
    report = run_bench(mnist)
    torch_rows = [r for r in report["throughput"] if r["peer"] == "torch"]
    assert len(torch_rows) == 4 and all(r["examples_per_second"] is None and r["note"] for r in torch_rows)
    assert report["ratios"]["float64"]["10"]["torch"] is None
    assert {t["key"]: t["passed"] for t in report["targets"]}["torch_batch10"] is None
    assert report["passed"] is True
