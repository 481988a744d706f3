"""The bench's numerics: FLOP counts, the correctness gate, and peers that compute the same maths.

No timed assertions: speeds depend on the machine; these tests check what is compared.
"""

import numpy as np
import pytest

from vgrad.bench import benchmark
from vgrad.bench.benchmark import (
    BookPeer,
    Check,
    EnginePeer,
    NumpyPeer,
    Problem,
    TorchPeer,
    WrongResult,
    check_engine,
    check_peer,
    matmul_flops_per_example,
    run_bench,
    torch_version,
)
from vgrad.core.engine.net import init_params
from vgrad.core.run.spec import parse_net


def problem(mnist, text="784-30-30-30-30-10", seed=0):
    spec = parse_net(text).with_input(mnist.n_inputs, mnist.n_classes)
    return Problem(spec, init_params(spec, np.random.default_rng(seed)), mnist)


def test_flops_count_the_matrix_products_of_forward_and_backward():
    # W = 784·30 + 3·30·30 + 30·10 = 26520, first layer 23520: 4W + 2(W − W¹)
    assert matmul_flops_per_example((784, 30, 30, 30, 30, 10)) == 4 * 26520 + 2 * 3000
    assert benchmark.experiment_gflop() == pytest.approx(160.02, abs=0.01)


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
    from collections import OrderedDict

    from vgrad.core.run import experiment

    monkeypatch.setattr(experiment, "simd_available", lambda: False)
    monkeypatch.setattr(experiment, "_SHARED", OrderedDict())
    engine = EnginePeer(problem(mnist), "float64")
    assert engine.trainer.x_panels.size == 0
    assert not engine.trainer.thin_products
    assert all(c.passed for c in check_engine(problem(mnist), "float64"))


def test_a_wrong_gradient_fails_its_check():
    assert not Check("x", max_error=1e-3, tolerance=1e-10).passed
    assert not Check("x", max_error=float("nan"), tolerance=1e-10).passed


def test_the_bench_refuses_to_time_a_wrong_engine(mnist, monkeypatch):
    def wrong(problem, dtype):
        return [Check(f"vgrad {dtype} full-batch gradient", 0.5, 1e-10)]

    def never(*args, **kwargs):
        raise AssertionError("timed something after a wrong result")

    monkeypatch.setattr(benchmark, "check_engine", wrong)
    monkeypatch.setattr(benchmark, "measure_peer", never)
    with pytest.raises(WrongResult, match="full-batch gradient"):
        run_bench(mnist, quick=True)


PEERS = [NumpyPeer, BookPeer] + ([TorchPeer] if torch_version() else [])


@pytest.mark.parametrize("peer_class", PEERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_peer_computes_the_reference_gradient(mnist, peer_class, dtype):
    p = problem(mnist)
    assert check_peer(peer_class(p, dtype), p, dtype).passed


@pytest.mark.parametrize("peer_class", PEERS)
def test_every_peer_takes_the_same_sgd_and_full_batch_steps_as_the_engine(mnist, peer_class):
    p = problem(mnist, seed=1)
    engine, peer = EnginePeer(p, "float64"), peer_class(p, "float64")
    order = np.random.default_rng(3).permutation(len(mnist.train_x)).astype(np.int64)
    for trainer in (engine, peer):
        trainer.sgd(order, 5, 3)
        trainer.full_batch_step()
    layout = p.layout
    x, y = mnist.probe_x[:20].astype(np.float64), np.eye(10)[mnist.probe_y[:20]]
    # same parameters ⇒ same gradient anywhere; compare through each peer's own gradient()
    np.testing.assert_allclose(peer.gradient(x, y), engine.gradient(x, y), rtol=0, atol=1e-9)
    assert layout.n_params == len(engine.trainer.params)


def test_targets_pass_fail_or_skip():
    result = {
        "ratios": {"float64": {"10": {"numpy": 2.0, "book": 14.0, "torch": None}}},
        "engine_share_of_matmul": {"float64": 0.75},
        "torch": None,
        "experiment": {"scale": 1.0, "epochs": 500, "engine_2_cores_s": 2.0, "numpy_2_cores_s": 2.5,
                       "two_thread_scaling": 1.8, "command_s": 2.6},
        "startup": {"warm_first_step_s": 0.8, "cold_compile_s": 9.0},
    }
    verdicts = {t.key: t.passed for t in benchmark.targets(result)}
    assert verdicts == {"numpy_batch10": True, "book_batch10": False, "torch_batch10": None,
                        "matmul_share": True, "two_threads": True, "experiment_time": True,
                        "experiment_vs_numpy": False, "command_vs_numpy": False, "warm_start": True,
                        "cold_compile": True}


def test_a_quick_run_extrapolates_the_experiment_to_500_epochs():
    result = {
        "ratios": {"float64": {"10": {"numpy": 2.0, "book": 20.0, "torch": 11.0}}},
        "engine_share_of_matmul": {"float64": 0.5},
        "torch": "2.13.0",
        "experiment": {"scale": 20.0, "epochs": 25, "engine_2_cores_s": 0.1, "numpy_2_cores_s": 0.2,
                       "two_thread_scaling": 1.9, "command_s": 1.0},
        "startup": {"warm_first_step_s": 0.8, "cold_compile_s": 9.0},
    }
    targets = {t.key: t for t in benchmark.targets(result)}
    assert targets["experiment_time"].measured == pytest.approx(2.0)
    # command: 1.0 s once + 19 more chunks of 0.1 s = 2.9 s, against numpy's 20 × 0.2 = 4 s
    assert targets["command_vs_numpy"].measured == pytest.approx(4.0 / 2.9)
    assert "extrapolated" in targets["command_vs_numpy"].note
