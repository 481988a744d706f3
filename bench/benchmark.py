"""`vgrad-tui bench`: the engine against its peers, measured in one run on one machine.

Numerics only (no rich, typer or textual); tui/bench_table.py renders the result.

What is measured (net 784-30-30-30-30-10, sigmoid, cross-entropy, L2 weight decay;
one thread; float64 and float32; the same initial weights for every peer):
- examples per second of forward + backward + update, at batch 10 (mini-batch SGD
  on the 4000 training images) and at full batch 1000 (gradient descent on the
  book's 1000 probe images, the speed experiment's step), for
    vgrad   the numba engine (kernels.sgd_steps; kernels.probe_gradient + update),
    numpy   batched numpy, one matmul per layer per batch, features × batch,
    book    the book's network2 algorithm: each example a column vector through
            forward and backprop, ∇b and ∇W summed over the mini-batch, then one update,
    torch   PyTorch CPU (torch.set_num_threads(1)) when it can be imported;
- the machine's dense matmul rate with numpy (n×n, one thread) and the engine's
  full-batch FLOP rate as a share of it (FLOPs: the matrix products only, 2 per
  multiply-add: 4·W + 2·(W − W¹) per example for W weights, W¹ in the first layer);
- the default three-net speed experiment (the book's nets, 500 full-batch epochs),
  headless through the Runner on 1 core and on 2 cores, the same experiment in
  batched numpy on 2 cores, the throughput of two nets on two threads against one,
  and the whole `vgrad-tui --no-ui` command with start-up and a warm cache;
- numba's cold compile (fresh NUMBA_CACHE_DIR, in a subprocess) and a warm start
  to the first step (a subprocess, as a user starts the command).
Before timing anything the engine's gradients and its fused SGD update are checked
against the plain-numpy reference (net.reference_backward), and so are the peers';
a wrong result raises WrongResult and no speed is reported.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vgrad.core.data import Dataset, one_hot
from vgrad.core.engine.net import init_params, make_layout, reference_backward
from vgrad.core.lab.book import BOOK_NETS
from vgrad.core.run.config import Config
from vgrad.core.run.spec import NetSpec, parse_net

NET = "784-30-30-30-30-10"
BATCHES = (10, 1000)
DTYPES = ("float64", "float32")
PEERS = ("vgrad", "numpy", "book", "torch")
ETA, LMBDA = 0.1, 5.0
EXPERIMENT_EPOCHS = 500
QUICK_EPOCHS = 25
MATMUL_SIZE = 1000
SCHEMA = 1

Progress = Callable[[str], None]


class WrongResult(Exception):
    """The engine (or a peer) computed a wrong gradient: no speed is reported for it."""


def _quiet(_: str) -> None:
    pass


# --------------------------------------------------------------------------- counting

def matmul_flops_per_example(sizes: tuple[int, ...]) -> int:
    """FLOPs of the matrix products of one example's forward + backward pass.

    Forward 2W, ∂C/∂W 2W, ∂C/∂a for every layer but the first 2(W − W¹): 4W + 2(W − W¹).
    """
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 4 * sum(weights) + 2 * (sum(weights) - weights[0])


def experiment_gflop(epochs: int = EXPERIMENT_EPOCHS, examples: int = 1000) -> float:
    """GFLOP of the default three-net speed experiment (matrix products only)."""
    per_example = sum(matmul_flops_per_example(parse_net(net.spec).sizes) for net in BOOK_NETS)
    return per_example * examples * epochs / 1e9


# --------------------------------------------------------------------------- the peers

class Peer:
    """One implementation under test, holding its own copy of the same initial weights.

    sgd(order, first, count) trains `count` mini-batches of 10 on the training set;
    full_batch_step() takes one gradient-descent step on the 1000 probe images;
    gradient(x, y) returns the flat mean gradient (net.py layout) for the checks.
    """

    name = ""

    def sgd(self, order: np.ndarray, first: int, count: int) -> None:
        raise NotImplementedError

    def full_batch_step(self) -> None:
        raise NotImplementedError

    def gradient(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def flops_per_example(self, batch: int) -> int:
        """Matrix-product FLOPs this peer executes per example."""
        return matmul_flops_per_example(self.sizes)


@dataclass
class Problem:
    """What every peer trains: the spec, its initial weights (float64) and the data."""

    spec: NetSpec
    params: np.ndarray
    data: Dataset
    batch: int = 10

    @property
    def layout(self):
        return make_layout(self.spec)


class EnginePeer(Peer):
    """The vgrad engine exactly as the app runs it (Trainer's buffers and kernels)."""

    name = "vgrad"

    def __init__(self, problem: Problem, dtype: str):
        from vgrad.core.engine import kernels
        from vgrad.core.run.experiment import Trainer

        self.kernels = kernels
        config = Config(mode="sgd", dtype=dtype, batch_size=problem.batch, eta=ETA, lmbda=LMBDA)
        self.trainer = Trainer(problem.spec, problem.data, config)
        self.trainer.params[:] = problem.params.astype(dtype)
        self.dtype = np.dtype(dtype)
        self.sizes = problem.spec.sizes

    def flops_per_example(self, batch):
        """At full batch the first layer leaves out the probe set's all-zero input columns."""
        full = matmul_flops_per_example(self.sizes)
        if batch == len(self.trainer.probe_x) and self.trainer.x_panels.size:
            skipped = self.sizes[0] - len(self.trainer.inputs)
            return full - 4 * self.sizes[1] * skipped  # z¹ and ∂C/∂W¹ each lose 2·n¹ per column
        return full

    def sgd(self, order, first, count):
        self.trainer.sgd_batches(order, first, count)

    def full_batch_step(self):
        t, k = self.trainer, self.kernels
        k.probe_gradient(t.params, t.table, t.probe_x, t.probe_y, t.x_panels, t.xt_panels, t.inputs,
                         t.scratch, t.zs, t.acts, t.deltas, t.grad_acts, t.grads, t.act_code, t.cost_code)
        k.update(t.params, t.grads, t.table, ETA, LMBDA, len(t.probe_x), 0.0)

    def gradient(self, x, y):
        t, k = self.trainer, self.kernels
        if x.shape == t.probe_x.shape and np.array_equal(x, t.probe_x):  # the timed full-batch path
            k.probe_gradient(t.params, t.table, t.probe_x, t.probe_y, t.x_panels, t.xt_panels,
                             t.inputs, t.scratch, t.zs, t.acts, t.deltas, t.grad_acts, t.grads,
                             t.act_code, t.cost_code)
        else:
            x, y = np.ascontiguousarray(x, self.dtype), np.ascontiguousarray(y, self.dtype)
            k.forward(t.params, t.table, x, t.zs, t.acts, t.act_code)
            k.backward(t.params, t.table, x, y, t.zs, t.acts, t.deltas, t.grad_acts, t.grads,
                       t.act_code, t.cost_code)
        return t.grads.astype(np.float64)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class _Layers:
    """Per-layer W (n_out, n_in) and b (n_out, 1) arrays cut from the flat vector."""

    def __init__(self, problem: Problem, dtype: str):
        layout = problem.layout
        self.layout = layout
        self.sizes = problem.spec.sizes
        self.dtype = np.dtype(dtype)
        self.w = [layout.weight(problem.params, l).astype(dtype) for l in range(layout.n_layers)]
        self.b = [layout.bias(problem.params, l).astype(dtype).reshape(-1, 1)
                  for l in range(layout.n_layers)]

    def flat(self, grads_w, grads_b) -> np.ndarray:
        out = np.zeros(self.layout.n_params)
        for l in range(self.layout.n_layers):
            w_off, b_off, n_out, n_in, _ = self.layout.table[l]
            out[w_off:w_off + n_out * n_in] = np.asarray(grads_w[l], dtype=np.float64).ravel()
            out[b_off:b_off + n_out] = np.asarray(grads_b[l], dtype=np.float64).ravel()
        return out


class NumpyPeer(Peer, _Layers):
    """Batched numpy: one matmul per layer per batch; activations are (features, batch)."""

    name = "numpy"

    def __init__(self, problem: Problem, dtype: str):
        _Layers.__init__(self, problem, dtype)
        data, n_classes = problem.data, problem.data.n_classes
        self.train_xt = np.ascontiguousarray(data.train_x.T, dtype=dtype)           # (784, n)
        self.train_yt = np.ascontiguousarray(one_hot(data.train_y, n_classes).T, dtype=dtype)
        self.probe_xt = np.ascontiguousarray(data.probe_x.T, dtype=dtype)
        self.probe_yt = np.ascontiguousarray(one_hot(data.probe_y, n_classes).T, dtype=dtype)
        self.n_train, self.n_probe = data.train_x.shape[0], data.probe_x.shape[0]
        self.batch = problem.batch

    def _gradients(self, x, y):
        """Mean ∂C/∂W and ∂C/∂b over the columns of x (one example per column)."""
        activations = [x]
        for w, b in zip(self.w, self.b):
            z = w @ activations[-1]
            z += b
            activations.append(_sigmoid(z))
        delta = activations[-1] - y
        batch = x.shape[1]
        grads_w, grads_b = [None] * len(self.w), [None] * len(self.w)
        for l in range(len(self.w) - 1, -1, -1):
            grads_w[l] = (delta @ activations[l].T) / batch
            grads_b[l] = delta.sum(axis=1, keepdims=True) / batch
            if l > 0:
                a = activations[l]
                delta = (self.w[l].T @ delta) * (a * (1.0 - a))
        return grads_w, grads_b

    def _update(self, grads_w, grads_b, n):
        decay = 1.0 - ETA * LMBDA / n
        for w, b, gw, gb in zip(self.w, self.b, grads_w, grads_b):
            w *= decay
            w -= ETA * gw
            b -= ETA * gb

    def sgd(self, order, first, count):
        for index in range(first, first + count):
            rows = order[index * self.batch:(index + 1) * self.batch]
            self._update(*self._gradients(self.train_xt[:, rows], self.train_yt[:, rows]), self.n_train)

    def full_batch_step(self):
        self._update(*self._gradients(self.probe_xt, self.probe_yt), self.n_probe)

    def bias_gradients(self):
        """∂C/∂b of every layer on the probe set (for the speed experiment's s_l)."""
        return self._gradients(self.probe_xt, self.probe_yt)

    def gradient(self, x, y):
        return self.flat(*self._gradients(np.ascontiguousarray(x.T, self.dtype),
                                          np.ascontiguousarray(y.T, self.dtype)))


class BookPeer(Peer, _Layers):
    """The book's network2 algorithm, written from its description: every example is a
    column vector; backprop runs once per example and its ∇b, ∇W are added up over the
    mini-batch; then W ← (1 − ηλ/n)W − (η/m)ΣW, b ← b − (η/m)Σb."""

    name = "book"

    def __init__(self, problem: Problem, dtype: str):
        _Layers.__init__(self, problem, dtype)
        data, n_classes = problem.data, problem.data.n_classes
        # network2 keeps its data as a list of (x, y) column-vector pairs
        self.training = self._pairs(data.train_x, one_hot(data.train_y, n_classes), dtype)
        self.probe = self._pairs(data.probe_x, one_hot(data.probe_y, n_classes), dtype)
        self.batch = problem.batch

    @staticmethod
    def _pairs(x, y, dtype):
        return [(xi.reshape(-1, 1).astype(dtype), yi.reshape(-1, 1).astype(dtype)) for xi, yi in zip(x, y)]

    def _backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for w, b in zip(self.w, self.b):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = _sigmoid(z)
            activations.append(activation)
        nabla_w = [None] * len(self.w)
        nabla_b = [None] * len(self.w)
        delta = activations[-1] - y                      # cross-entropy: δ^L = a − y
        for l in range(len(self.w) - 1, -1, -1):
            nabla_b[l] = delta
            nabla_w[l] = np.dot(delta, activations[l].T)
            if l > 0:
                s = _sigmoid(zs[l - 1])
                delta = np.dot(self.w[l].T, delta) * s * (1 - s)
        return nabla_b, nabla_w

    def _sums(self, pairs):
        sum_b = [np.zeros(b.shape, dtype=self.dtype) for b in self.b]
        sum_w = [np.zeros(w.shape, dtype=self.dtype) for w in self.w]
        for x, y in pairs:
            delta_b, delta_w = self._backprop(x, y)
            sum_b = [s + d for s, d in zip(sum_b, delta_b)]
            sum_w = [s + d for s, d in zip(sum_w, delta_w)]
        return sum_b, sum_w

    def _update_mini_batch(self, pairs, n):
        sum_b, sum_w = self._sums(pairs)
        m = len(pairs)
        self.w = [(1 - ETA * (LMBDA / n)) * w - (ETA / m) * s for w, s in zip(self.w, sum_w)]
        self.b = [b - (ETA / m) * s for b, s in zip(self.b, sum_b)]

    def sgd(self, order, first, count):
        for index in range(first, first + count):
            rows = order[index * self.batch:(index + 1) * self.batch]
            self._update_mini_batch([self.training[i] for i in rows], len(self.training))

    def full_batch_step(self):
        self._update_mini_batch(self.probe, len(self.probe))

    def gradient(self, x, y):
        pairs = self._pairs(x, y, self.dtype)
        sum_b, sum_w = self._sums(pairs)
        return self.flat([s / len(pairs) for s in sum_w], [s / len(pairs) for s in sum_b])


def torch_version() -> str | None:
    """torch's version if it can be imported here, else None."""
    try:
        import torch
    except Exception:  # not installed, or a broken install: skipped with a note
        return None
    return str(torch.__version__)


class TorchPeer(Peer):
    """PyTorch CPU on one thread: Linear+Sigmoid layers, BCE-with-logits (= cross-entropy on
    the sigmoid output, δ^L = a − y), SGD with weight decay λ/n on the weights only."""

    name = "torch"

    def __init__(self, problem: Problem, dtype: str):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        tdtype = getattr(torch, dtype)
        layout = problem.layout
        layers = []
        for l in range(layout.n_layers):
            n_out, n_in = int(layout.table[l, 2]), int(layout.table[l, 3])
            linear = torch.nn.Linear(n_in, n_out, dtype=tdtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layout.weight(problem.params, l).copy()))
                linear.bias.copy_(torch.from_numpy(layout.bias(problem.params, l).copy()))
            layers.append(linear)
            if l < layout.n_layers - 1:
                layers.append(torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        self.layout = layout
        self.sizes = problem.spec.sizes
        linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.linears = linears
        data, n_classes = problem.data, problem.data.n_classes
        self.train_x = torch.from_numpy(np.ascontiguousarray(data.train_x, dtype=dtype))
        self.train_y = torch.from_numpy(np.ascontiguousarray(one_hot(data.train_y, n_classes), dtype=dtype))
        self.probe_x = torch.from_numpy(np.ascontiguousarray(data.probe_x, dtype=dtype))
        self.probe_y = torch.from_numpy(np.ascontiguousarray(one_hot(data.probe_y, n_classes), dtype=dtype))
        self.batch = problem.batch
        self.sgd_optimizer = self._optimizer(len(self.train_x))
        self.full_optimizer = self._optimizer(len(self.probe_x))
        self.dtype = dtype

    def _optimizer(self, n):
        return self.torch.optim.SGD(
            [{"params": [m.weight for m in self.linears], "weight_decay": LMBDA / n},
             {"params": [m.bias for m in self.linears], "weight_decay": 0.0}], lr=ETA)

    def _loss(self, x, y):
        logits = self.model(x)
        return self.torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="sum") / len(x)

    def _step(self, optimizer, x, y):
        optimizer.zero_grad(set_to_none=True)
        self._loss(x, y).backward()
        optimizer.step()

    def sgd(self, order, first, count):
        for index in range(first, first + count):
            rows = self.torch.from_numpy(order[index * self.batch:(index + 1) * self.batch])
            self._step(self.sgd_optimizer, self.train_x[rows], self.train_y[rows])

    def full_batch_step(self):
        self._step(self.full_optimizer, self.probe_x, self.probe_y)

    def gradient(self, x, y):
        torch = self.torch
        self.model.zero_grad(set_to_none=True)
        self._loss(torch.from_numpy(np.ascontiguousarray(x, self.dtype)),
                   torch.from_numpy(np.ascontiguousarray(y, self.dtype))).backward()
        out = np.zeros(self.layout.n_params)
        for l, m in enumerate(self.linears):
            w_off, b_off, n_out, n_in, _ = self.layout.table[l]
            out[w_off:w_off + n_out * n_in] = m.weight.grad.detach().double().numpy().ravel()
            out[b_off:b_off + n_out] = m.bias.grad.detach().double().numpy()
        return out


PEER_CLASSES = {"vgrad": EnginePeer, "numpy": NumpyPeer, "book": BookPeer, "torch": TorchPeer}


# --------------------------------------------------------------------------- checks

@dataclass(frozen=True)
class Check:
    what: str
    max_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.max_error <= self.tolerance)  # NaN fails

    def as_dict(self) -> dict:
        return {"what": self.what, "max_error": self.max_error, "tolerance": self.tolerance,
                "passed": self.passed}


TOLERANCE = {"float64": 1e-10, "float32": 2e-5}


def _relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """max |ours − ref| / max(1, max |ref|): absolute for small gradients, relative for big ones."""
    scale = max(1.0, float(np.max(np.abs(reference))))
    return float(np.max(np.abs(ours - reference)) / scale)


def check_engine(problem: Problem, dtype: str) -> list[Check]:
    """The engine's full-batch gradient (the packed path) and one fused SGD step against the reference."""
    spec, layout, params = problem.spec, problem.layout, problem.params
    data = problem.data
    probe_y = one_hot(data.probe_y, data.n_classes).astype(np.float64)
    probe_x = data.probe_x.astype(np.float64)
    if dtype == "float32":  # compare like with like: the reference on the float32-rounded inputs
        params = params.astype(np.float32).astype(np.float64)
    reference, _ = reference_backward(spec, layout, params, probe_x, probe_y)
    engine = EnginePeer(problem, dtype)
    checks = [Check(f"vgrad {dtype} full-batch gradient (1000 probe images)",
                    _relative_error(engine.gradient(probe_x, probe_y), reference), TOLERANCE[dtype])]
    # one fused SGD step: W ← (1 − ηλ/n)W − η∂C/∂W, b ← b − η∂C/∂b, gradient from the reference
    order = np.arange(len(data.train_x), dtype=np.int64)
    rows = order[:problem.batch]
    x = data.train_x[rows].astype(np.float64)
    y = one_hot(data.train_y[rows], data.n_classes).astype(np.float64)
    grads, _ = reference_backward(spec, layout, params, x, y)
    decay = np.where(layout.weight_mask(), 1.0 - ETA * LMBDA / len(order), 1.0)
    expected = decay * params - ETA * grads
    engine.sgd(order, 0, 1)
    checks.append(Check(f"vgrad {dtype} fused SGD step (batch {problem.batch})",
                        _relative_error(engine.trainer.params.astype(np.float64), expected),
                        TOLERANCE[dtype]))
    return checks


def check_peer(peer: Peer, problem: Problem, dtype: str) -> Check:
    data = problem.data
    x = data.probe_x[:50].astype(np.float64)
    y = one_hot(data.probe_y[:50], data.n_classes).astype(np.float64)
    params = problem.params if dtype == "float64" else problem.params.astype(np.float32).astype(np.float64)
    reference, _ = reference_backward(problem.spec, problem.layout, params, x, y)
    return Check(f"{peer.name} {dtype} gradient (50 images)", _relative_error(peer.gradient(x, y), reference),
                 TOLERANCE[dtype] * (100 if peer.name == "torch" else 1))


# --------------------------------------------------------------------------- timing

def _best_seconds(run: Callable[[], None], min_seconds: float, repeats: int) -> tuple[float, int]:
    """(best wall seconds per call, calls per timed repeat): calls are batched until a repeat
    lasts ≥ min_seconds, then the fastest of `repeats` repeats counts."""
    run()  # warm: caches, lazy imports, allocator
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            run()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or calls >= 1 << 20:
            break
        calls = max(calls * 2, int(calls * min_seconds / max(elapsed, 1e-9)) + 1)
    best = elapsed
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, time.perf_counter() - start)
    return best / calls, calls


@dataclass(frozen=True)
class Throughput:
    peer: str
    dtype: str
    batch: int
    examples_per_second: float | None
    gflops: float | None             # dense FLOPs of the maths per second (the same for every peer)
    gflops_performed: float | None   # FLOPs the peer actually executes per second
    note: str = ""

    def as_dict(self) -> dict:
        return {"peer": self.peer, "dtype": self.dtype, "batch": self.batch,
                "examples_per_second": self.examples_per_second, "gflops": self.gflops,
                "gflops_performed": self.gflops_performed, "note": self.note}


def measure_peer(peer: Peer, problem: Problem, dtype: str, batch: int, min_seconds: float,
                 repeats: int) -> Throughput:
    flops = matmul_flops_per_example(problem.spec.sizes)
    if batch == problem.batch:
        n_train = len(problem.data.train_x)
        order = np.random.default_rng(1).permutation(n_train).astype(np.int64)
        per_call = 20 if peer.name != "book" else 4  # mini-batches per timed call
        position = [0]
        n_batches = n_train // batch

        def run():
            first = position[0]
            if first + per_call > n_batches:
                first = 0
            peer.sgd(order, first, per_call)
            position[0] = first + per_call
        examples = per_call * batch
    else:
        run = peer.full_batch_step
        examples = len(problem.data.probe_x)
    seconds, _ = _best_seconds(run, min_seconds, repeats)
    rate = examples / seconds
    performed = peer.flops_per_example(batch)
    note = ""
    if performed != flops:
        note = f"skips {flops - performed:,} of {flops:,} FLOPs per example (all-zero input columns)"
    return Throughput(peer.name, dtype, batch, rate, rate * flops / 1e9, rate * performed / 1e9, note)


def matmul_gflops(dtype: str, size: int = MATMUL_SIZE, min_seconds: float = 0.3, repeats: int = 3) -> float:
    """numpy's dense n×n matmul rate on one thread (threads are limited by the caller)."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size)).astype(dtype)
    b = rng.random((size, size)).astype(dtype)
    out = np.empty((size, size), dtype=dtype)
    seconds, _ = _best_seconds(lambda: np.matmul(a, b, out=out), min_seconds, repeats)
    return 2 * size ** 3 / seconds / 1e9


# --------------------------------------------------------------------------- the experiment

@contextlib.contextmanager
def _cpus(count: int):
    """Run the calling thread (and threads it starts) on `count` CPUs where the OS allows it."""
    if not hasattr(os, "sched_setaffinity"):
        yield False
        return
    before = os.sched_getaffinity(0)
    chosen = set(sorted(before)[:count])
    os.sched_setaffinity(0, chosen)
    try:
        yield len(chosen) == count
    finally:
        os.sched_setaffinity(0, before)


def book_specs(data: Dataset) -> tuple[NetSpec, ...]:
    return tuple(parse_net(net.spec).with_input(data.n_inputs, data.n_classes) for net in BOOK_NETS)


def engine_experiment(data: Dataset, epochs: int, cpus: int | None) -> float:
    """Seconds for the three book nets' speed experiment, records published on a Board.

    cpus=None: one worker thread runs the nets one after another; cpus=n: the Runner
    (one thread per net, as `vgrad-tui --no-ui` runs them) on n CPUs.
    """
    from vgrad.core.run.board import Board
    from vgrad.core.run.experiment import run_experiment
    from vgrad.core.run.runner import Runner

    specs = book_specs(data)
    config = Config(mode="speed", epochs=epochs)
    board = Board(specs, epochs)
    if cpus is None:
        start = time.perf_counter()
        for index, spec in enumerate(specs):
            for record in run_experiment(spec, data, config, index):
                board.publish(record)
        return time.perf_counter() - start
    runner = Runner.for_training(specs, data, config, board)
    with _cpus(cpus):
        start = time.perf_counter()
        runner.start()
        runner.join()
        seconds = time.perf_counter() - start
    if runner.errors:
        raise RuntimeError(next(iter(runner.errors.values())))
    return seconds


def numpy_experiment(data: Dataset, epochs: int, cpus: int) -> float:
    """The same experiment in batched numpy: one thread per net, s_l recorded before each step."""
    specs = book_specs(data)
    peers = []
    for index, spec in enumerate(specs):
        params = init_params(spec, np.random.default_rng(0))
        peers.append(NumpyPeer(Problem(spec, params, data), "float64"))

    def work(peer):
        for _ in range(epochs):
            grads_w, grads_b = peer.bias_gradients()
            _speeds = [float(np.linalg.norm(g)) for g in grads_b[:-1]]
            peer._update(grads_w, grads_b, peer.n_probe)

    with _cpus(cpus):
        return _seconds_on_threads(work, peers)


def _seconds_on_threads(work, items) -> float:
    """Wall seconds to run work(item) for every item, each on its own thread."""
    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def two_thread_scaling(data: Dataset, steps: int, repeats: int = 8) -> float:
    """Throughput of two nets on two threads over one net on one thread (full-batch steps).

    The two timings alternate in short windows and each keeps its best of `repeats`, so a
    moment of load from outside (a shared host) does not land on one side only. On a
    shared host this still ranges 1.55–2.1× from run to run.
    """
    from vgrad.core.run.experiment import Trainer

    spec = parse_net(NET).with_input(data.n_inputs, data.n_classes)
    trainers = [Trainer(spec, data, Config(mode="speed")) for _ in range(2)]

    def work(trainer):
        for _ in range(steps):
            trainer.probe()
            trainer.full_batch_step()

    work(trainers[0])  # warm
    one = two = math.inf
    with _cpus(2):
        for _ in range(repeats):
            one = min(one, _seconds_on_threads(work, trainers[:1]))
            two = min(two, _seconds_on_threads(work, trainers))
    return 2 * one / two


_LAUNCH = "import sys; sys.argv[0] = 'vgrad-tui'; from vgrad.tui import main; main()"


def command_seconds(epochs: int | None) -> float:
    """Wall time of `vgrad-tui --no-ui` (the default three nets) in a fresh process, warm cache."""
    args = [sys.executable, "-c", _LAUNCH, "--no-ui"]
    if epochs is not None:
        args += ["--epochs", str(epochs)]
    start = time.perf_counter()
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"vgrad-tui --no-ui failed: {result.stderr.strip()[-500:]}")
    return seconds


_COLD = "from vgrad.core.run.warmup import compile_kernels; compile_kernels('float64')"

_FIRST_STEP = """
import sys, time
launched = float(sys.argv[1])
import vgrad.tui.cli  # everything the command imports
from vgrad.core.run.config import Config
from vgrad.core.data import load_dataset
from vgrad.core.lab.presets import DEFAULT_PRESET, preset_nets
from vgrad.core.run.session import open_session
from vgrad.core.run.spec import parse_nets
from vgrad.core.run.warmup import compile_kernels
compile_kernels("float64")
data = load_dataset("mnist")
specs = tuple(s.with_input(data.n_inputs, data.n_classes) for s in parse_nets(preset_nets(DEFAULT_PRESET)))
session = open_session(specs, data, Config())
session.runner.start()
while any(net.latest is None for net in session.board.snapshot().nets):
    time.sleep(0.0005)
print(time.time() - launched)
session.runner.stop()
session.runner.join()
"""


def cold_compile_seconds() -> float:
    """Seconds for a fresh process to import vgrad and compile the float64 kernels from nothing."""
    with tempfile.TemporaryDirectory(prefix="vgrad-bench-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"cold compile failed: {result.stderr.strip()[-500:]}")
    return seconds


def warm_first_step_seconds() -> float:
    """Seconds from launching a process to every default net's first step on the board (warm cache)."""
    launched = time.time()
    result = subprocess.run([sys.executable, "-c", _FIRST_STEP, repr(launched)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(f"warm start failed: {result.stderr.strip()[-500:]}")
    return float(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- targets

@dataclass(frozen=True)
class Target:
    key: str
    text: str
    measured: float | None
    threshold: float
    unit: str                 # "x", "%", "s"
    higher_is_better: bool = True
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.measured is None or not math.isfinite(self.measured):
            return None
        if self.higher_is_better:
            return self.measured >= self.threshold
        return self.measured <= self.threshold

    def as_dict(self) -> dict:
        return {"key": self.key, "text": self.text, "measured": self.measured, "threshold": self.threshold,
                "unit": self.unit, "higher_is_better": self.higher_is_better, "passed": self.passed,
                "note": self.note}


def _row(rows: list[Throughput], peer: str, dtype: str, batch: int) -> Throughput | None:
    for row in rows:
        if (row.peer, row.dtype, row.batch) == (peer, dtype, batch):
            return row
    return None


def _rate(rows: list[Throughput], peer: str, dtype: str, batch: int) -> float | None:
    row = _row(rows, peer, dtype, batch)
    return None if row is None else row.examples_per_second


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def ratios(rows: list[Throughput]) -> dict:
    """vgrad's examples/s over each peer's, per dtype and batch."""
    out = {}
    for dtype in DTYPES:
        out[dtype] = {}
        for batch in BATCHES:
            ours = _rate(rows, "vgrad", dtype, batch)
            out[dtype][str(batch)] = {peer: _ratio(ours, _rate(rows, peer, dtype, batch))
                                      for peer in PEERS if peer != "vgrad"}
    return out


def targets(result: dict) -> list[Target]:
    r64 = result["ratios"]["float64"]
    exp, start = result["experiment"], result["startup"]
    torch_note = "" if result["torch"] else "PyTorch not importable here: skipped"
    scale = exp["scale"]
    scaled = f"quick run: extrapolated from {exp['epochs']} epochs" if scale != 1 else ""
    # the command's start-up is paid once; its compute and numpy's grow with the epochs
    command_full = exp["command_s"] + (scale - 1) * exp["engine_2_cores_s"]
    command_vs_numpy = _ratio(exp["numpy_2_cores_s"] * scale, command_full)
    return [
        Target("numpy_batch10", "vgrad ≥ 1.8× batched numpy at batch 10", r64["10"]["numpy"], 1.8, "x"),
        Target("book_batch10", "vgrad ≥ 15× the book's per-example algorithm at batch 10", r64["10"]["book"], 15, "x"),
        Target("torch_batch10", "vgrad ≥ 10× PyTorch CPU at batch 10", r64["10"]["torch"], 10, "x",
               note=torch_note),
        Target("matmul_share", "full batch ≥ 70 % of the machine's matmul rate",
               result["engine_share_of_matmul"]["float64"] * 100, 70, "%",
               note="FLOPs the engine executes, all-zero input columns left out"),
        Target("two_threads", "two nets on two threads ≥ 1.7× one thread's throughput", exp["two_thread_scaling"],
               1.7, "x"),
        Target("experiment_time", "three-net experiment computes in ≤ 3 s on 2 cores",
               exp["engine_2_cores_s"] * scale, 3.0, "s", higher_is_better=False, note=scaled),
        Target("experiment_vs_numpy", "three-net experiment ≥ 1.4× batched numpy (2 cores)",
               _ratio(exp["numpy_2_cores_s"], exp["engine_2_cores_s"]), 1.4, "x"),
        Target("command_vs_numpy", "whole command (start-up, warm cache) beats numpy's compute time",
               command_vs_numpy, 1.0, "x", note="numpy's seconds / the command's" + (f"; {scaled}" if scaled else "")),
        Target("warm_start", "warm start to first step ≤ 1.5 s", start["warm_first_step_s"], 1.5, "s",
               higher_is_better=False),
        Target("cold_compile", "cold compile ≤ 15 s (behind a spinner)", start["cold_compile_s"], 15.0, "s",
               higher_is_better=False),
    ]


# --------------------------------------------------------------------------- machine

class BackgroundLoad:
    """CPU time other processes used while the bench ran, in cores (Linux /proc; else None).

    A shared machine busy with other work slows every figure; the bench reports it
    rather than hide it."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:8]]
            with open(f"/proc/{os.getpid()}/stat") as own:
                parts = own.read().rsplit(")", 1)[1].split()
            mine = sum(int(v) for v in parts[11:15])  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            return None
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        return busy, mine, time.perf_counter()

    def cores(self) -> float | None:
        end = self._sample()
        if self.start is None or end is None or end[2] <= self.start[2]:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        others = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(0.0, others / ticks / (end[2] - self.start[2]))


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba
    import scipy
    from threadpoolctl import threadpool_info

    from vgrad.core.engine.simd import simd_available

    blas = sorted({f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')})"
                   for info in threadpool_info() if info.get("user_api") == "blas"})
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": cpus, "os": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "scipy": scipy.__version__,
            "torch": torch_version(), "blas": blas, "avx512": simd_available()}


# --------------------------------------------------------------------------- the whole run

def run_bench(data: Dataset, quick: bool = False, progress: Progress = _quiet, seed: int = 0) -> dict:
    """Measure everything (see the module docstring); raise WrongResult before timing if wrong."""
    from vgrad.core.run.threads import limit_blas_threads
    from vgrad.core.run.warmup import compile_kernels

    limit_blas_threads()
    load = BackgroundLoad()
    min_seconds, repeats = (0.05, 2) if quick else (0.4, 5)
    spec = parse_net(NET).with_input(data.n_inputs, data.n_classes)
    params = init_params(spec, np.random.default_rng(seed))
    problem = Problem(spec, params, data)
    have_torch = torch_version()
    peers = [p for p in PEERS if p != "torch" or have_torch]

    progress("compiling numba kernels (float64, float32)…")
    for dtype in DTYPES:
        compile_kernels(dtype)

    progress("checking every gradient against the numpy reference…")
    checks = []
    for dtype in DTYPES:
        checks += check_engine(problem, dtype)
        for name in peers[1:]:
            checks.append(check_peer(PEER_CLASSES[name](problem, dtype), problem, dtype))
    wrong = [c for c in checks if not c.passed]
    if wrong:
        raise WrongResult("; ".join(f"{c.what}: error {c.max_error:.3g} > {c.tolerance:g}" for c in wrong))

    rows: list[Throughput] = []
    for dtype in DTYPES:
        for name in PEERS:
            for batch in BATCHES:
                if name == "torch" and not have_torch:
                    rows.append(Throughput(name, dtype, batch, None, None, None,
                                           "PyTorch not importable here: skipped"))
                    continue
                progress(f"timing {name} {dtype} at batch {batch}…")
                peer = PEER_CLASSES[name](problem, dtype)
                slow = name == "book" and batch == 1000
                rows.append(measure_peer(peer, problem, dtype, batch, min_seconds * (0.5 if slow else 1),
                                         1 if slow and quick else repeats))

    progress("timing numpy's dense matmul…")
    matmul = {dtype: matmul_gflops(dtype, min_seconds=max(min_seconds, 0.1), repeats=repeats) for dtype in DTYPES}
    share = {dtype: _row(rows, "vgrad", dtype, 1000).gflops_performed / matmul[dtype] for dtype in DTYPES}

    epochs = QUICK_EPOCHS if quick else EXPERIMENT_EPOCHS
    scale = EXPERIMENT_EPOCHS / epochs
    progress(f"three-net experiment ({epochs} epochs), one worker thread…")
    one_thread = engine_experiment(data, epochs, cpus=None)
    progress(f"three-net experiment ({epochs} epochs) on 2 cores…")
    two_cores = engine_experiment(data, epochs, cpus=2)
    progress(f"three-net experiment ({epochs} epochs) in batched numpy on 2 cores…")
    numpy_two = numpy_experiment(data, epochs, cpus=2)
    progress("two nets on two threads…")
    scaling = two_thread_scaling(data, 20 if quick else 40)
    progress("the whole command, vgrad-tui --no-ui…")
    command = command_seconds(None if not quick else epochs)

    progress("warm start to first step…")
    warm = min(warm_first_step_seconds() for _ in range(1 if quick else 3))
    progress("cold compile in a fresh process (fresh NUMBA_CACHE_DIR)…")
    cold = cold_compile_seconds()

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
        "experiment": {
            "nets": [net.spec for net in BOOK_NETS],
            "epochs": epochs,
            "scale": scale,
            "gflop": experiment_gflop(epochs),
            "engine_1_thread_s": one_thread,
            "engine_2_cores_s": two_cores,
            "numpy_2_cores_s": numpy_two,
            "speedup_2_cores": one_thread / two_cores,
            "two_thread_scaling": scaling,
            "command_s": command,
            "command": "vgrad-tui --no-ui" + (f" --epochs {epochs}" if quick else ""),
        },
        "startup": {"cold_compile_s": cold, "warm_first_step_s": warm},
        "background_load_cores": load.cores(),
    }
    found = targets(result)
    result["targets"] = [t.as_dict() for t in found]
    result["passed"] = all(t.passed is not False for t in found)
    return result
