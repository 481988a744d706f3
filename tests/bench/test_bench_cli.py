"""`vgrad-tui bench --quick --json`: it runs, as a user starts it, and its JSON carries every field.

One end-to-end run (about 20 s: most of it the cold-compile measurement); no assertion on
speeds, which belong to the machine.
"""

import json
import subprocess
import sys

LAUNCH = "import sys; sys.argv[0] = 'vgrad-tui'; from vgrad.tui import main; main()"

TOP = {"schema", "quick", "net", "threads", "machine", "torch", "correctness", "throughput", "ratios",
       "matmul", "engine_share_of_matmul", "experiment", "startup", "background_load_cores", "targets",
       "passed"}
MACHINE = {"cpu", "cores", "os", "python", "numpy", "numba", "scipy", "torch", "blas", "avx512"}
ROW = {"peer", "dtype", "batch", "examples_per_second", "gflops", "gflops_performed", "note"}
EXPERIMENT = {"nets", "epochs", "scale", "gflop", "engine_1_thread_s", "engine_2_cores_s", "numpy_2_cores_s",
              "speedup_2_cores", "two_thread_scaling", "command_s", "command"}
TARGETS = {"numpy_batch10", "book_batch10", "torch_batch10", "matmul_share", "two_threads", "experiment_time",
           "experiment_vs_numpy", "command_vs_numpy", "warm_start", "cold_compile"}


def test_bench_quick_json_runs_and_carries_every_field():
    result = subprocess.run([sys.executable, "-c", LAUNCH, "bench", "--quick", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert set(report) == TOP
    assert report["quick"] is True and report["net"] == "784-30-30-30-30-10"
    assert MACHINE <= set(report["machine"])
    assert report["correctness"]["passed"] and all(c["passed"] for c in report["correctness"]["checks"])
    rows = report["throughput"]
    assert {(r["peer"], r["dtype"], r["batch"]) for r in rows} == {
        (peer, dtype, batch) for peer in ("vgrad", "numpy", "book", "torch")
        for dtype in ("float64", "float32") for batch in (10, 1000)}
    for row in rows:
        assert set(row) == ROW
        measured = row["peer"] != "torch" or report["torch"] is not None
        assert (row["examples_per_second"] is not None and row["examples_per_second"] > 0) == measured
    for dtype in ("float64", "float32"):
        assert set(report["ratios"][dtype]) == {"10", "1000"}
        assert set(report["ratios"][dtype]["10"]) == {"numpy", "book", "torch"}
        assert report["matmul"][dtype]["gflops"] > 0 and report["engine_share_of_matmul"][dtype] > 0
    assert set(report["experiment"]) == EXPERIMENT
    assert set(report["startup"]) == {"cold_compile_s", "warm_first_step_s"}
    assert {t["key"] for t in report["targets"]} == TARGETS
    for target in report["targets"]:
        assert target["passed"] in (True, False, None) and target["text"]
