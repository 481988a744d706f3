"""The kernel set: the SIMD kernels where they compile, else (or with VGRAD_SIMD=0) the portable ones, with
one line on stderr and the same numbers."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from vgrad.core.config import Config
from vgrad.core.data import load_dataset
from vgrad.core.engine import kernel_set
from vgrad.core.engine.simd import products, target
from vgrad.core.engine.simd.lanes import vload, vsum
from vgrad.core.spec import parse_net
from vgrad.core.train.experiment import run_experiment

needs_simd = pytest.mark.skipif(not kernel_set.SIMD, reason="the SIMD kernel set does not run here")

# Each run: numbers from every record (s_l, ‖∂C/∂W^l‖, cost, accuracy), a few steps of each kind.
RUNS = """
import json
from vgrad.core.config import Config
from vgrad.core.data import load_dataset
from vgrad.core.engine.kernel_set import SIMD
from vgrad.core.spec import parse_net
from vgrad.core.train.experiment import run_experiment

mnist = load_dataset("mnist")
runs = {"simd": SIMD}
for text, config in [("784-30-30-30-30-10", Config(epochs=3)),
                     ("784-30-30-30-10:relu:he", Config(epochs=2)),
                     ("784-30-30-30-10:tanh:xavier:residual", Config(epochs=2)),
                     ("784-30-30-10", Config(mode="sgd", epochs=1, probes_per_epoch=2)),
                     ("784-30-30-10", Config(mode="sgd", epochs=1, probes_per_epoch=2, clip=0.5))]:
    records = run_experiment(parse_net(text), mnist, config)
    runs[f"{text} {config.mode} {config.clip}"] = [
        [*r.speed, *(r.weight_grad or ()), r.cost, r.accuracy or 0.0] for r in records]
print(json.dumps(runs))
"""


def _runs(environment: dict[str, str]) -> tuple[dict, list[str]]:
    done = subprocess.run([sys.executable, "-c", RUNS], env={**os.environ, **environment}, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr.splitlines()


@needs_simd
@pytest.mark.slow
def test_the_portable_kernels_give_the_simd_kernels_numbers_with_one_line_saying_so():
    simd, quiet = _runs({})
    portable, said = _runs({kernel_set.SWITCH: "0"})
    assert simd.pop("simd") and not portable.pop("simd")
    assert quiet == [] and len(said) == 1 and said[0].startswith("vgrad: VGRAD_SIMD=0")
    assert simd.keys() == portable.keys()
    for run, numbers in simd.items():
        np.testing.assert_allclose(portable[run], numbers, rtol=1e-12, atol=1e-12, err_msg=run)


def test_simd_kernels_that_do_not_compile_give_way_to_the_portable_ones_in_one_line(monkeypatch, capsys):
    if target.PATH is None:
        pytest.skip("no SIMD path to fail")
    monkeypatch.delenv(kernel_set.SWITCH, raising=False)

    def broken(values, out):  # an intrinsic given a dtype it has no vectors of: numba refuses it
        return vsum(vload(np.zeros(4, dtype=np.int64), 0))

    monkeypatch.setattr(products, "self_test", njit(broken))
    assert kernel_set.choose() is False
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("vgrad: the SIMD kernels do not compile here (") and "portable" in line


def test_vgrad_simd_0_chooses_the_portable_kernels(monkeypatch, capsys):
    monkeypatch.setenv(kernel_set.SWITCH, "0")
    assert kernel_set.choose() is False
    assert capsys.readouterr().err.splitlines() == [
        "vgrad: VGRAD_SIMD=0: running the portable kernels (numba loops and BLAS), not the SIMD ones"]


@needs_simd
def test_the_simd_self_test_compiles_here_and_runs_every_intrinsic_to_finite_numbers():
    assert kernel_set.simd_compiles() is None
    assert np.isfinite(products.self_test(np.linspace(0.1, 0.9, 96), np.zeros(96)))


def test_a_run_on_the_kernels_chosen_here_is_finite():
    """Also what CI's VGRAD_SIMD=0 pass checks on the portable kernels."""
    records = list(run_experiment(parse_net("784-30-30-10"), load_dataset("mnist"), Config(epochs=2)))
    assert len(records) == 3 and all(record.is_finite for record in records)
