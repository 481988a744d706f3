"""The SIMD path follows numba's target; every narrower path this host can run is checked in
its own process (numba compiling for it), and every kernel compiles for aarch64 and, on a host
without AVX-512, for AVX-512."""

import json
import os
import pickle
import platform
import subprocess
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import path_worker
import pytest

from vgrad.core.engine import jit
from vgrad.core.engine.simd import target

WORKER = Path(__file__).with_name("path_worker.py")
HOST_RUNS = target.PATHS[target.PATHS.index(target.PATH):] if target.PATH else ()  # this host's path and narrower
NARROWER = HOST_RUNS[1:]  # each checked in a worker; the host's own path is the one the whole suite runs
X86_HOST = platform.machine().lower() in ("x86_64", "amd64")  # path_environment names x86 CPUs


def test_the_path_is_the_widest_the_target_features_allow():
    assert target.simd_path(frozenset({"avx2", "fma", "avx512f"})) == "avx512"
    assert target.simd_path(frozenset({"avx2", "fma", "avx"})) == "avx2"
    assert target.simd_path(frozenset({"avx", "fma"})) == "128-bit"
    assert target.simd_path(frozenset({"neon", "fp-armv8"})) == "128-bit"
    assert target.simd_path(frozenset({"sse4.2", "avx"})) is None  # no fused multiply-add: BLAS


@pytest.mark.skipif(target.PATH is None, reason="no SIMD path on this host: the engine runs on BLAS")
def test_the_host_path_kernels_are_as_wide_as_its_vectors():
    from vgrad.core.engine.simd.lanes import LANES

    bits = {"avx512": 512, "avx2": 256, "128-bit": 128}[target.PATH]
    assert {str(dtype): lanes for dtype, lanes in LANES.items()} == {"float64": bits // 64, "float32": bits // 32}


def test_a_smaller_cpu_is_the_host_features_with_some_switched_off():
    flat = "+64bit,+avx,+avx2,+avx512f,+avx512vl,+fma,-amx-tile,+sse4.2"
    assert target.features_without(("avx512",), flat) == (
        "+64bit,+avx,+avx2,-avx512f,-avx512vl,+fma,-amx-tile,+sse4.2")
    assert target.features_without(("avx512", "avx2"), flat) == (
        "+64bit,+avx,-avx2,-avx512f,-avx512vl,+fma,-amx-tile,+sse4.2")


def start_worker(path, *flags, cache=None) -> subprocess.Popen:
    env = {**os.environ, **target.path_environment(path)}
    if cache:
        env["NUMBA_CACHE_DIR"] = str(cache)
    return subprocess.Popen([sys.executable, str(WORKER), *flags], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def result_of(worker: subprocess.Popen) -> dict:
    out, err = worker.communicate()
    assert worker.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


STARTED: dict[str, subprocess.Popen] = {}  # the workers, once started
PATH_TESTS = ("test_the_avx2_path", "test_the_128_bit_path_and_every_kernel_compiles_for_aarch64")


def start_workers(cache_128: Path) -> dict[str, subprocess.Popen]:
    """Both narrower paths' workers at once, each compiling cold on its own core; the 128-bit one
    gets a fresh cache, so that numba keeps each kernel's IR for the aarch64 compile. The engine
    tests' conftest calls this as soon as collection ends, so they overlap the rest of the suite."""
    if not STARTED:
        runnable = X86_HOST and set(NARROWER)
        if "avx2" in runnable:
            STARTED["avx2"] = start_worker("avx2")
        if "128-bit" in runnable:
            STARTED["128-bit"] = start_worker("128-bit", "--arm", cache=cache_128)
    return STARTED


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    yield start_workers(tmp_path_factory.mktemp("cache-128"))
    for worker in STARTED.values():
        if worker.poll() is None:
            worker.kill()
            worker.communicate()


@pytest.fixture(scope="module")
def host_runs():
    data = path_worker.dataset()
    runs = {mode: np.array(path_worker.fifty_epochs(data, mode)) for mode in ("speed", "sgd")}
    runs["sparse_speed"] = np.array(path_worker.fifty_epochs(path_worker.sparse_dataset(), "speed"))
    return runs


def check_path(result, path, host_runs):
    """Right products, the same bits on a repeat and from both forms of the probe set, and within
    1e-12 of the host's path after 50 epochs."""
    assert result["path"] == path
    tolerance = {"float64": 1e-12, "float32": 1e-5}
    for check in ("thin_vs_blas", "panels_vs_reference"):
        assert all(result[check][dtype] < tolerance[dtype] for dtype in result[check]), check
    assert result["repeat_identical"] and all(result["compressed_as_packed"].values())
    for mode, params in host_runs.items():
        np.testing.assert_allclose(result[f"{mode}_params"], params, rtol=1e-12, atol=0)
    # its own kernels ran, not the host path's from the shared numba cache (keyed by CPU name and
    # features): sums over other lane counts round differently somewhere in 50 epochs
    assert any(result[f"{mode}_params"] != params.tolist() for mode, params in host_runs.items())


AVX512 = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")


def avx512_environment() -> dict[str, str]:
    """numba compiling for an AVX-512 CPU on a host without it: the host's features with AVX-512's on."""
    items = [item for item in llvm.get_host_cpu_features().flatten().split(",") if item]
    items = ["+" + item[1:] if item[1:] in AVX512 else item for item in items]
    items += ["+" + name for name in AVX512 if "+" + name not in items]
    return {"NUMBA_CPU_NAME": "skylake-avx512", "NUMBA_CPU_FEATURES": ",".join(items)}


@pytest.mark.slow
@pytest.mark.skipif(target.PATH in ("avx512", None) or not X86_HOST,
                    reason="on an AVX-512 host the whole suite runs the AVX-512 kernels")
def test_the_avx512_kernels_compile_on_a_host_that_cannot_run_them(workers, host_runs, tmp_path):
    """Compile only, as for aarch64: the three kernels that hold every other (a step of SGD, and
    forward and backprop on the packed probe set), with the signatures of the host's runs. It
    asks for the path workers so that they compile meanwhile (this test comes first)."""
    steps = {f"vgrad.core.engine.kernels.{name}" for name in ("sgd_steps", "_forward", "_backprop")}
    signatures = {name: [s for s in dispatcher.signatures if "float64" in str(s)]
                  for name, dispatcher in jit.engine_dispatchers().items() if name in steps}
    (tmp_path / "signatures.pickle").write_bytes(pickle.dumps(signatures))
    env = {**os.environ, **avx512_environment(), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    worker = subprocess.Popen([sys.executable, str(WORKER), "--compile-only", str(tmp_path / "signatures.pickle")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = result_of(worker)
    expected = sum(len(found) for found in signatures.values())
    assert result["path"] == "avx512" and result["compiled"] == expected >= 3
    assert all(signatures.values()) and result["narrow"] == []  # in 512-bit registers


@pytest.mark.slow
@pytest.mark.skipif("avx2" not in NARROWER or not X86_HOST,
                    reason="needs an x86 host with AVX-512 (on an AVX2 host the whole suite runs this path)")
def test_the_avx2_path(workers, host_runs):
    result = result_of(workers["avx2"])
    assert set(result["thin_vs_blas"]) == {"float64", "float32"}
    assert result["lanes"] == {"float64": 4, "float32": 8} and result["tile_rows"] == 5
    check_path(result, "avx2", host_runs)


@pytest.mark.slow
@pytest.mark.skipif("128-bit" not in NARROWER or not X86_HOST, reason="needs an x86 host with AVX2 and FMA")
def test_the_128_bit_path_and_every_kernel_compiles_for_aarch64(workers, host_runs):
    result = result_of(workers["128-bit"])
    assert result["lanes"] == {"float64": 2, "float32": 4}
    check_path(result, "128-bit", host_runs)
    assert set(result["arm"]) == set(path_worker.ARM_CPUS) and min(result["arm"].values()) >= 10
