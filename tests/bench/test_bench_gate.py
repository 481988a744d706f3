"""The correctness gate: the engine's timed paths against the numpy reference, and a wrong result stops the bench."""

from collections import OrderedDict

import numpy as np
import pytest

from vgrad.bench import gate
from vgrad.bench.gate import Check, WrongResult, check_engine
from vgrad.bench.peers import EnginePeer
from vgrad.bench.problem import Problem
from vgrad.core.engine.net import init_params
from vgrad.core.spec import parse_net


def problem(mnist, text="784-30-30-30-30-10", seed=0):
    spec = parse_net(text).with_input(mnist.n_inputs, mnist.n_classes)
    return Problem(spec, init_params(spec, np.random.default_rng(seed)), mnist)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_engine_passes_its_own_gate_on_the_timed_paths(mnist, dtype):
    checks = check_engine(problem(mnist), dtype)
    assert len(checks) == 2 and all(c.passed for c in checks), checks


@pytest.mark.parametrize("text", ["784-30-30-30-30-10:relu:he:residual", "784-20-25-10:tanh:quadratic",
                                  "784-17-10:elu", "784-30-30-10:leaky_relu:xavier"])
def test_the_gate_holds_for_other_nets_too(mnist, text):
    """The packed first layer (all-zero pixels left out) and every activation path against the reference."""
    assert all(c.passed for c in check_engine(problem(mnist, text, seed=2), "float64"))


def test_without_avx512_the_engine_falls_back_to_blas_and_still_passes(mnist, monkeypatch):
    from vgrad.core.train import trainer as experiment

    monkeypatch.setattr(experiment, "SIMD", False)
    monkeypatch.setattr(experiment, "_SHARED", OrderedDict())
    engine = EnginePeer(problem(mnist), "float64")
    assert engine.trainer.panels.x_panels.size == 0
    assert engine.trainer.buffers.transposes.size == 0
    assert all(c.passed for c in check_engine(problem(mnist), "float64"))


def test_a_wrong_or_nan_gradient_fails_its_check():
    assert Check("x", max_error=1e-11, tolerance=1e-10).passed
    assert not Check("x", max_error=1e-3, tolerance=1e-10).passed
    assert not Check("x", max_error=float("nan"), tolerance=1e-10).passed


def test_a_failed_check_raises_wrong_result_naming_it(mnist, monkeypatch):
    def wrong(problem, dtype):
        return [Check(f"vgrad {dtype} full-batch gradient", 0.5, 1e-10)]

    monkeypatch.setattr(gate, "check_engine", wrong)
    with pytest.raises(WrongResult, match="vgrad float64 full-batch gradient: error 0.5"):
        gate.gate(problem(mnist), ("vgrad",))


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_the_bench_refuses_to_time_a_wrong_engine(mnist, monkeypatch):
    from vgrad.bench import run

    def never(*args, **kwargs):
        raise AssertionError("timed something after a wrong result")

    monkeypatch.setattr("vgrad.core.train.warmup.compile_kernels", lambda dtype="float64": None)
    monkeypatch.setattr(gate, "check_engine", lambda problem, dtype: [Check("vgrad wrong", 0.5, 1e-10)])
    monkeypatch.setattr(run, "measure_peer", never)
    with pytest.raises(WrongResult, match="vgrad wrong"):
        run.run_bench(mnist, quick=True)
