"""A bench run with every timing replaced by a fixed figure: the real orchestration, in a blink."""

import pytest

from vgrad.bench import run
from vgrad.bench.gate import Check
from vgrad.bench.peers import Peer, peer_classes
from vgrad.bench.timing import Throughput

# examples/s at batch 10 and at full batch; vgrad ÷ numpy 5×, ÷ book 20×, ÷ torch 10× at batch 10
RATES = {"vgrad": (300_000.0, 600_000.0), "numpy": (60_000.0, 250_000.0), "book": (15_000.0, 20_000.0),
         "torch": (30_000.0, 200_000.0)}
FIGURES = {"engine_1_thread_s": 2.2, "engine_2_cores_s": 1.3, "numpy_2_cores_s": 3.3, "two_thread_scaling": 1.9,
           "command_s": 2.4, "warm_first_step_s": 0.7, "cold_compile_s": 10.0, "matmul_gflops": 50.0,
           "accuracy_30_epochs_s": 24.0}


def _measure(peer, problem, dtype, batch, min_seconds, repeats):
    rate = RATES[peer.name][batch != problem.batch]
    executed = 0.5 if peer.name == "vgrad" and batch != problem.batch else 1.0   # zeros skipped at full batch
    return Throughput(peer.name, dtype, batch, rate, rate * 1e-4, rate * 1e-4 * executed)


class StubTorch(Peer):
    """Stands in for PyTorch, which need not be installed: only its name is timed."""

    name = "torch"

    def __init__(self, problem, dtype):
        pass


WATCH = {"net": "784-256x8-10", "batch": 64, "threads": 1, "windows": 3, "steps_per_window": 20,
         "step_s": {"off": 0.004, "every_1": 0.0041, "every_10": 0.00401, "full_10": 0.00404},
         "extra_percent": {"every_1": 2.5, "every_10": 0.25, "full_10": 1.0},
         "log_percent": {"every_1": 2.4, "every_10": 0.24},
         "bare_percent": {"bare_1": 1.9, "bare_full_10": 0.8, "fused_1": 1.2, "fused_full_10": 0.5},
         "floor_direct_percent": {"bare_1": 1.7, "bare_full_10": 0.7, "fused_1": 1.1, "fused_full_10": 0.4},
         "memory": {"parameter_bytes": 2656296, "peak_copies": 0.5, "left_copies": 0.0, "rounds": 7},
         "latency": {"records": 10, "median_s": 0.03, "max_s": 0.06, "frame_s": 1 / 15, "poll_s": 0.05}}


@pytest.fixture
def watch_figures() -> dict:
    """The stubbed vgrad.watch figures, a copy to change."""
    import copy

    return copy.deepcopy(WATCH)


@pytest.fixture
def stubbed_bench(monkeypatch):
    """run.run_bench with fixed timings (FIGURES, RATES), a passing gate and no compile.

    Returns the figures: change one before calling run_bench to move a target."""
    figures = dict(FIGURES)
    monkeypatch.setattr("vgrad.core.train.warmup.compile_kernels", lambda dtype="float64": None)
    monkeypatch.setattr(run, "gate", lambda problem, peers: [Check("stub", 0.0, 1e-10)])
    monkeypatch.setattr(run, "measure_peer", _measure)
    monkeypatch.setattr(run, "matmul_gflops", lambda dtype, **kwargs: figures["matmul_gflops"])
    monkeypatch.setattr(run, "engine_experiment",
                        lambda data, epochs, cpus: figures["engine_1_thread_s" if cpus is None else "engine_2_cores_s"])
    monkeypatch.setattr(run, "numpy_experiment", lambda data, epochs, cpus: figures["numpy_2_cores_s"])
    monkeypatch.setattr(run, "two_thread_scaling", lambda data, steps: figures["two_thread_scaling"])
    monkeypatch.setattr(run, "command_seconds", lambda epochs: figures["command_s"])
    monkeypatch.setattr(run, "warm_first_step_seconds", lambda: figures["warm_first_step_s"])
    monkeypatch.setattr(run, "cold_compile_seconds", lambda: figures["cold_compile_s"])
    monkeypatch.setattr(run, "accuracy_timing", lambda quick: {
        "images": 60_000, "dtype": "float32", "epochs": 3, "seconds": figures["accuracy_30_epochs_s"] / 10,
        "scale": 10.0, "seconds_30_epochs": figures["accuracy_30_epochs_s"], "errors": []})
    monkeypatch.setattr(run, "torch_version", lambda: "2.0-stub")
    monkeypatch.setattr(run, "compare_paths", lambda quick, progress: {"chosen": "avx512", "cpu": "stub", "paths": {
        path: {"path": path, "ratios": {"float64 b10": 5.0, "float32 b10": 5.0, "float64 b1000": 2.0,
                                        "float32 b1000": 1.5},
               "experiment_2_cores_s": 1.3, "cold_compile_s": 12.0} for path in ("avx512", "avx2")}})
    monkeypatch.setattr(run, "watch_overhead", lambda quick: WATCH)
    monkeypatch.setattr(run, "peer_classes", lambda: {**peer_classes(), "torch": StubTorch})
    return figures
