"""`vgrad-tui bench` from start to end: the gate, then every timing, as one JSON-ready dict.

The steps, in order, and where each lives:
    gate.py        every gradient against the numpy reference (WrongResult: nothing is timed)
    timing.py      examples/s of each peer (peers.py, torch_peer.py) and numpy's matmul rate
    experiment.py  the three-net speed experiment on one thread, on two cores, in numpy
    launch.py      the whole command, a warm start and a cold compile, each in a fresh process
    accuracy.py    reproduce --accuracy's four nets on 60,000 synthetic images
    paths.py       each SIMD path numba can target here, timed in its own process
    targets.py     PASS/FAIL against the targets; machine.py what it ran on
A new measurement is one more module called from run_bench below, one more key in the
result, and one more table in report.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vgrad.bench.gate import gate
from vgrad.bench.machine import BackgroundLoad, machine
from vgrad.bench.measures.accuracy import accuracy_timing
from vgrad.bench.measures.experiment import engine_experiment, numpy_experiment, two_thread_scaling
from vgrad.bench.measures.launch import cold_compile_seconds, command_seconds, warm_first_step_seconds
from vgrad.bench.measures.paths import compare_paths
from vgrad.bench.measures.watch_cost import watch_overhead
from vgrad.bench.peers import peer_classes
from vgrad.bench.problem import (
    BATCHES,
    EXPERIMENT_EPOCHS,
    MATMUL_SIZE,
    NET,
    PEERS,
    QUICK_EPOCHS,
    Problem,
    experiment_gflop,
)
from vgrad.bench.targets import find_row, ratios, targets
from vgrad.bench.timing import Throughput, matmul_gflops, measure_peer
from vgrad.bench.torch_peer import torch_version
from vgrad.core.config import DTYPES
from vgrad.core.data import Dataset
from vgrad.core.engine.net import init_params
from vgrad.core.lab.book import BOOK_NETS
from vgrad.core.spec import parse_net

SCHEMA = 1

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def _throughput(problem: Problem, have_torch: bool, quick: bool, progress: Progress) -> list[Throughput]:
    """One row per peer, dtype and batch (a skipped torch keeps its row, empty, with a note)."""
    min_seconds, repeats = (0.05, 2) if quick else (0.4, 5)
    classes = peer_classes()
    rows: list[Throughput] = []
    for dtype in DTYPES:
        for name in PEERS:
            for batch in BATCHES:
                if name == "torch" and not have_torch:
                    rows.append(Throughput(name, dtype, batch, None, None, None,
                                           "PyTorch not importable here: skipped"))
                    continue
                progress(f"timing {name} {dtype} at batch {batch}…")
                peer = classes[name](problem, dtype)
                slow = name == "book" and batch == 1000
                rows.append(measure_peer(peer, problem, dtype, batch, min_seconds * (0.5 if slow else 1),
                                         1 if slow and quick else repeats))
    return rows


def _matmul(quick: bool) -> dict:
    min_seconds, repeats = (0.1, 2) if quick else (0.4, 5)
    return {dtype: matmul_gflops(dtype, min_seconds=min_seconds, repeats=repeats) for dtype in DTYPES}


def _experiment(data: Dataset, quick: bool, progress: Progress) -> dict:
    epochs = QUICK_EPOCHS if quick else EXPERIMENT_EPOCHS
    progress(f"three-net experiment ({epochs} epochs), one worker thread…")
    one_thread = engine_experiment(data, epochs, cpus=None)
    progress(f"three-net experiment ({epochs} epochs) on 2 cores…")
    two_cores = engine_experiment(data, epochs, cpus=2)
    progress(f"three-net experiment ({epochs} epochs) in batched numpy on 2 cores…")
    numpy_two = numpy_experiment(data, epochs, cpus=2)
    progress("two nets on two threads…")
    scaling = two_thread_scaling(data, 20 if quick else 40)
    progress("the whole command, vgrad-tui --no-ui…")
    command = command_seconds(epochs if quick else None)
    return {
        "nets": [net.spec for net in BOOK_NETS],
        "epochs": epochs,
        "scale": EXPERIMENT_EPOCHS / epochs,
        "gflop": experiment_gflop(epochs),
        "engine_1_thread_s": one_thread,
        "engine_2_cores_s": two_cores,
        "numpy_2_cores_s": numpy_two,
        "speedup_2_cores": one_thread / two_cores,
        "two_thread_scaling": scaling,
        "command_s": command,
        "command": "vgrad-tui --no-ui" + (f" --epochs {epochs}" if quick else ""),
    }


def _startup(quick: bool, progress: Progress) -> dict:
    progress("warm start to first step…")
    warm = min(warm_first_step_seconds() for _ in range(1 if quick else 3))
    progress("cold compile in a fresh process (fresh NUMBA_CACHE_DIR)…")
    return {"cold_compile_s": cold_compile_seconds(), "warm_first_step_s": warm}


def run_bench(data: Dataset, quick: bool = False, progress: Progress = _quiet, seed: int = 0) -> dict:
    """Measure everything (see the module docstring); raise WrongResult before timing if wrong."""
    from vgrad.core.train.threads import limit_blas_threads
    from vgrad.core.train.warmup import compile_kernels

    limit_blas_threads()
    load = BackgroundLoad()
    spec = parse_net(NET).with_input(data.n_inputs, data.n_classes)
    problem = Problem(spec, init_params(spec, np.random.default_rng(seed)), data)
    have_torch = torch_version()
    peers = tuple(p for p in PEERS if p != "torch" or have_torch)

    progress("compiling numba kernels (float64, float32)…")
    for dtype in DTYPES:
        compile_kernels(dtype)
    progress("checking every gradient against the numpy reference…")
    checks = gate(problem, peers)

    rows = _throughput(problem, have_torch is not None, quick, progress)
    progress("timing numpy's dense matmul…")
    matmul = _matmul(quick)
    share = {}
    for dtype in DTYPES:
        full_batch = find_row(rows, "vgrad", dtype, 1000)
        # the net's FLOPs per second, counted as the peers' are: the engine's skipped zeros count as done
        share[dtype] = full_batch.gflops / matmul[dtype] if full_batch else None
    experiment = _experiment(data, quick, progress)
    startup = _startup(quick, progress)
    progress("reproduce --accuracy: four nets by SGD on 60,000 synthetic images, 2 cores…")
    accuracy = accuracy_timing(quick)
    paths = compare_paths(quick, progress)
    progress("vgrad.watch on a PyTorch MLP 784-256×8-10: step time with and without, and its latency…")
    watch = watch_overhead(quick)

    result = {
        "schema": SCHEMA,
        "quick": quick,
        "net": spec.widths,
        "threads": 1,
        "machine": machine(),
        "torch": have_torch,
        "correctness": {"passed": True, "checks": [c.as_dict() for c in checks]},
        "throughput": [row.as_dict() for row in rows],
        "ratios": ratios(rows),
        "matmul": {dtype: {"size": MATMUL_SIZE, "gflops": matmul[dtype]} for dtype in DTYPES},
        "engine_share_of_matmul": share,
        "experiment": experiment,
        "startup": startup,
        "accuracy": accuracy,
        "paths": paths,
        "watch": watch,
        "background_load_cores": load.cores(),
    }
    found = targets(result)
    result["targets"] = [t.as_dict() for t in found]
    result["passed"] = all(t.passed is not False for t in found)
    return result
