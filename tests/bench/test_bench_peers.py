"""Every peer computes the same maths as the engine, from the same weights, so their speeds compare."""

import numpy as np
import pytest

from vgrad.bench.gate import check_peer
from vgrad.bench.peers import BookPeer, EnginePeer, NumpyPeer
from vgrad.bench.problem import Problem
from vgrad.bench.timing import measure_peer
from vgrad.bench.torch_peer import TorchPeer, torch_version
from vgrad.core.engine.net import init_params
from vgrad.core.spec import parse_net

PEERS = [NumpyPeer, BookPeer] + ([TorchPeer] if torch_version() else [])


def problem(mnist, text="784-30-30-30-30-10", seed=0):
    spec = parse_net(text).with_input(mnist.n_inputs, mnist.n_classes)
    return Problem(spec, init_params(spec, np.random.default_rng(seed)), mnist)


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
    x, y = mnist.probe_x[:20].astype(np.float64), np.eye(10)[mnist.probe_y[:20]]
    # same parameters ⇒ same gradient anywhere; compare through each peer's own gradient()
    np.testing.assert_allclose(peer.gradient(x, y), engine.gradient(x, y), rtol=0, atol=1e-9)


def test_a_peer_that_trains_differently_is_caught(mnist):
    """The comparison above is not vacuous: one extra step makes the gradients differ."""
    p = problem(mnist, seed=1)
    engine, peer = EnginePeer(p, "float64"), NumpyPeer(p, "float64")
    engine.full_batch_step()
    peer.full_batch_step()
    peer.full_batch_step()
    x, y = mnist.probe_x[:20].astype(np.float64), np.eye(10)[mnist.probe_y[:20]]
    assert np.max(np.abs(peer.gradient(x, y) - engine.gradient(x, y))) > 1e-6


def test_a_timed_peer_reports_its_rate_and_the_flops_it_skips(mnist):
    """A throughput row: examples/s, dense GFLOP/s, and the engine's packed first layer counted as executed."""
    p = problem(mnist)
    numpy_row = measure_peer(NumpyPeer(p, "float64"), p, "float64", 10, min_seconds=0.001, repeats=1)
    assert numpy_row.examples_per_second > 0 and numpy_row.gflops == numpy_row.gflops_performed
    assert numpy_row.note == ""
    engine = EnginePeer(p, "float64")
    engine_row = measure_peer(engine, p, "float64", 1000, min_seconds=0.001, repeats=1)
    skipped = engine.trainer.panels.x_panels.size > 0 or engine.trainer.panels.sparse
    assert (engine_row.gflops_performed < engine_row.gflops) == skipped
    assert ("zero pixels" in engine_row.note) == skipped


def test_at_full_batch_the_engine_executes_the_first_layer_only_for_nonzero_pixels(mnist):
    """z¹ and ∂C/∂W¹ each cost 2·n¹ FLOPs per nonzero pixel of an image; the other layers as numpy's."""
    p = problem(mnist)
    engine = EnginePeer(p, "float64")
    assert engine.trainer.panels.sparse
    n0, n1 = p.spec.sizes[:2]
    per_image = np.count_nonzero(mnist.probe_x) / len(mnist.probe_x)
    dense = NumpyPeer(p, "float64").flops_per_example(1000)
    assert engine.flops_per_example(1000) == dense - 4 * n1 * n0 + round(4 * n1 * per_image)
    assert engine.flops_per_example(10) == dense
