"""The SIMD paths compared: the engine's kernels for each width (target.PATHS) that this
machine can run, each timed in its own process with numba compiling for that path.

`python -m vgrad.bench.measures.paths PATH [--quick]` is the worker: it prints one JSON line with
the engine's and batched numpy's examples/s, their ratios, the three-net experiment on
2 cores and a cold compile, all for the path numba's environment selects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import numpy as np

from vgrad.core.engine.simd import target

WIDER_FIRST = target.PATHS


def runnable_paths() -> tuple[str, ...]:
    """The chosen path and every narrower one (an AVX-512 host can run all three)."""
    if target.PATH is None:
        return ()
    return WIDER_FIRST[WIDER_FIRST.index(target.PATH):]


def compare_paths(quick: bool, progress: Callable[[str], None]) -> dict:
    """{"chosen": target.PATH, "paths": {path: the worker's result}}, one process per path."""
    results = {}
    for path in runnable_paths():
        progress(f"the {path} kernels, in their own process…")
        env = {**os.environ, **(target.path_environment(path) if path != target.PATH else {})}
        args = [sys.executable, "-m", "vgrad.bench.measures.paths", path] + (["--quick"] if quick else [])
        run = subprocess.run(args, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the {path} path failed: {run.stderr.strip()[-500:]}")
        results[path] = json.loads(run.stdout.strip().splitlines()[-1])
    return {"chosen": target.PATH, "cpu": target.target_cpu(), "paths": results}


def measure_this_path(quick: bool) -> dict:
    """The worker's measurements, for the path this process's numba compiles."""
    from vgrad.bench.measures.experiment import engine_experiment
    from vgrad.bench.measures.launch import cold_compile_seconds
    from vgrad.bench.peers import EnginePeer, NumpyPeer
    from vgrad.bench.problem import BATCHES, EXPERIMENT_EPOCHS, NET, QUICK_EPOCHS, Problem
    from vgrad.bench.timing import measure_peer
    from vgrad.core.config import DTYPES
    from vgrad.core.data import load_dataset
    from vgrad.core.engine.net import init_params
    from vgrad.core.spec import parse_net
    from vgrad.core.train.threads import limit_blas_threads
    from vgrad.core.train.warmup import compile_kernels

    limit_blas_threads()
    cold = cold_compile_seconds()
    data = load_dataset("mnist")
    spec = parse_net(NET).with_input(data.n_inputs, data.n_classes)
    problem = Problem(spec, init_params(spec, np.random.default_rng(0)), data)
    min_seconds, repeats = (0.05, 2) if quick else (0.4, 5)
    ratios = {}
    for dtype in DTYPES:
        compile_kernels(dtype)
        for batch in BATCHES:
            rates = [measure_peer(peer(problem, dtype), problem, dtype, batch, min_seconds, repeats)
                     for peer in (EnginePeer, NumpyPeer)]
            ratios[f"{dtype} b{batch}"] = rates[0].examples_per_second / rates[1].examples_per_second
    epochs = QUICK_EPOCHS if quick else EXPERIMENT_EPOCHS
    experiment = engine_experiment(data, epochs, cpus=2) * EXPERIMENT_EPOCHS / epochs
    return {"path": target.PATH, "ratios": ratios, "experiment_2_cores_s": experiment, "cold_compile_s": cold}


# The AVX2 path's targets (issue 15): ratios to batched numpy measured in that path's process.
PATH_TARGETS = {"avx2": (("float64 b10", 4.0), ("float32 b10", 4.0), ("float64 b1000", 1.3), ("float32 b1000", 1.1))}
EXPERIMENT_SECONDS, COLD_COMPILE_SECONDS = 3.0, 15.0


def path_targets(paths: dict | None, make_target: Callable) -> list:
    """The targets each measured path must meet, as make_target(key, text, measured, threshold, unit,
    higher_is_better) (targets.Target); none when the paths were not measured."""
    found = []
    for path, measured in ((paths or {}).get("paths") or {}).items():
        for key, threshold in PATH_TARGETS.get(path, ()):
            found.append(make_target(f"{path}_{key.replace(' ', '_')}", f"{path} path: {key} ≥ {threshold}× numpy",
                                     measured["ratios"][key], threshold, "x", True))
        if path in PATH_TARGETS:
            found.append(make_target(f"{path}_experiment", f"{path} path: three-net experiment ≤ 3 s on 2 cores",
                                     measured["experiment_2_cores_s"], EXPERIMENT_SECONDS, "s", False))
        found.append(make_target(f"{path}_cold_compile", f"{path} path: cold compile ≤ 15 s",
                                 measured["cold_compile_s"], COLD_COMPILE_SECONDS, "s", False))
    return found


def paths_cells(paths: dict | None) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """(header, rows) of the table comparing the paths: one row per path, ratios to numpy."""
    measured = (paths or {}).get("paths") or {}
    keys = [f"{dtype} b{batch}" for dtype in ("float64", "float32") for batch in (10, 1000)]
    header = ("SIMD path", *(f"{key}\n÷ numpy" for key in keys), "experiment\n2 cores", "cold\ncompile")
    rows = []
    for path, result in measured.items():
        chosen = " (chosen)" if path == paths.get("chosen") else ""
        rows.append((path + chosen, *(f"{result['ratios'][key]:.2f}×" for key in keys),
                     f"{result['experiment_2_cores_s']:.2f} s", f"{result['cold_compile_s']:.1f} s"))
    return header, tuple(rows)


if __name__ == "__main__":
    wanted = sys.argv[1]
    if wanted != target.PATH:
        sys.exit(f"numba compiles for the {target.PATH} path here, not {wanted}")
    print(json.dumps(measure_this_path("--quick" in sys.argv)))
