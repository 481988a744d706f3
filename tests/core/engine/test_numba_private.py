"""numba's private names, each gone as a later numba might rename it: the engine falls back to numba's stock
behaviour and a tiny experiment still runs."""

import os
import subprocess
import sys

import numpy as np
import pytest
from llvmlite import ir
from numba import njit, types
from numba.core.caching import FunctionCache, IndexDataCacheFile

from vgrad.core.config import Config
from vgrad.core.engine import blas, numba_private
from vgrad.core.engine.simd import target
from vgrad.core.train.experiment import run_experiment
from vgrad.core.train.warmup import TINY_NET, _tiny_dataset, compile_kernels

STOCK_CACHE = {"cache", "cache_impl", "cache_locator"}  # without one of them, numba's stock cache


def _double(x):
    return 2 * x


def _gone(name: str, monkeypatch) -> None:
    """HOOKS[name] renamed, as in a numba that no longer has it (numba's own code keeps working)."""
    module, _ = numba_private.HOOKS[name]
    monkeypatch.setitem(numba_private.HOOKS, name, (module, "renamed_in_a_later_numba"))
    monkeypatch.setattr(numba_private, "_CACHE_CLASSES", {})


@pytest.mark.parametrize("name", sorted(numba_private.HOOKS))
def test_without_each_private_name_kernels_compile_cache_and_a_tiny_experiment_runs(name, monkeypatch, tmp_path):
    monkeypatch.setattr("numba.config.CACHE_DIR", str(tmp_path / "stock"))  # numba's own cache, if it comes to that
    _gone(name, monkeypatch)
    assert numba_private.hook(name) is None

    double = numba_private.cache_in(njit(_double), str(tmp_path / "ours"))
    assert double(2.0) == 4.0 and isinstance(double._cache, FunctionCache)
    folder = numba_private.cache_folder(double)
    assert folder is not None and folder.startswith(str(tmp_path / ("stock" if name in STOCK_CACHE else "ours")))
    module = ir.Module()
    fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()])
    assert numba_private.get_or_insert_function(module, fnty, "llvm.fabs.f64") is \
        numba_private.get_or_insert_function(module, fnty, "llvm.fabs.f64")
    if target.numba.config.CPU_FEATURES is None:
        assert target.target_features() == target.FEATURES
    assert (numba_private.blas_gemm(types.float64) is None) == (name == "blas")

    numba_private.disable_cache(double)
    assert double(3.0) == 6.0 and (numba_private.cache_folder(double) is None or name == "null_cache")

    compile_kernels(modes=("speed",))  # is_cached, shares_cache and survive_cache_failure on the way
    records = list(run_experiment(TINY_NET, _tiny_dataset(), Config(epochs=2)))
    assert len(records) == 3 and all(record.is_finite for record in records)


def test_without_numbas_keyed_file_methods_the_cache_uses_numbas_own_file(tmp_path, monkeypatch):
    _gone("save_data", monkeypatch)
    double = numba_private.cache_in(njit(_double), str(tmp_path))
    double(1.0)
    assert type(double._cache._cache_file) is IndexDataCacheFile and numba_private.is_cached(double, (1.0,))


def test_a_cache_failure_is_recognised_without_numbas_cache_class(monkeypatch):
    """The frames are matched by module name; without FunctionCache, by the module it used to be in."""
    try:
        IndexDataCacheFile("/proc/no-such-place", "kernel", 0)._save_index({})
    except OSError as raised:
        error = raised
    assert numba_private.raised_by_cache(error)
    _gone("cache", monkeypatch)
    assert numba_private.raised_by_cache(error) and not numba_private.raised_by_cache(ZeroDivisionError())


@pytest.mark.slow
def test_the_loop_product_is_blas_product():
    """blas.loop_matmul, for a numba without its BLAS bridge: C ← α P Q + β C for every storage order."""
    rng = np.random.default_rng(3)
    m, n, k = 3, 4, 5
    for p_rows, q_rows, c_rows in np.ndindex(2, 2, 2):
        p, q, c = rng.random(m * k + 2), rng.random(k * n + 1), rng.random(m * n + 3)
        out = [c.copy(), c.copy()]
        for product, target_ in zip((blas.blas_matmul, blas.loop_matmul), out):
            product(m, n, k, 0.5, p, 2, bool(p_rows), q, 1, bool(q_rows), 0.25, target_, 3, bool(c_rows))
        np.testing.assert_allclose(out[1], out[0], rtol=1e-14)


@pytest.mark.slow
def test_with_every_private_name_gone_at_import_a_tiny_experiment_runs(tmp_path):
    """The whole engine imported by a numba that has none of them (portable kernels, to keep it short)."""
    script = (
        "from vgrad.core.engine import numba_private as p\n"
        "for name, (module, _) in list(p.HOOKS.items()):\n"
        "    p.HOOKS[name] = (module, 'renamed_in_a_later_numba')\n"
        "from vgrad.core.config import Config\n"
        "from vgrad.core.engine import blas, jit, kernels\n"
        "from vgrad.core.train.experiment import run_experiment\n"
        "from vgrad.core.train.warmup import TINY_NET, _tiny_dataset\n"
        "records = list(run_experiment(TINY_NET, _tiny_dataset(), Config(epochs=3)))\n"
        "assert blas.matmul is blas.loop_matmul and all(r.is_finite for r in records)\n"
        "assert type(kernels._forward._cache).__name__ == 'FunctionCache'\n"
        "print(len(records))\n")
    env = {**os.environ, "VGRAD_SIMD": "0", "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4"]   # epochs 0 … 3
    assert any(tmp_path.rglob("*.nbi"))  # numba's stock cache, in numba's own place
