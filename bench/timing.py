"""Timing one peer's training, and the machine's own dense-matmul rate to compare FLOP rates with."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vgrad.bench.peers import Peer
from vgrad.bench.problem import MATMUL_SIZE, Problem, matmul_flops_per_example


def best_seconds(run: Callable[[], None], min_seconds: float, repeats: int) -> float:
    """Best wall seconds per call: calls are batched until a repeat lasts ≥ min_seconds, then the
    fastest of `repeats` repeats counts (the least disturbed by anything else on the machine)."""
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
    return best / calls


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
    """Examples per second of forward + backward + update: mini-batch SGD at the problem's batch,
    else full-batch steps on the probe images."""
    flops = matmul_flops_per_example(problem.spec.sizes)
    if batch == problem.batch:
        n_train = len(problem.data.train_x)
        order = np.random.default_rng(1).permutation(n_train).astype(np.int64)
        per_call = 20 if peer.name != "book" else 4  # mini-batches per timed call
        n_batches = n_train // batch
        position = 0

        def run() -> None:
            nonlocal position
            if position + per_call > n_batches:
                position = 0
            peer.sgd(order, position, per_call)
            position += per_call

        examples = per_call * batch
    else:
        run = peer.full_batch_step
        examples = len(problem.data.probe_x)
    rate = examples / best_seconds(run, min_seconds, repeats)
    performed = peer.flops_per_example(batch)
    note = ""
    if performed != flops:
        note = f"skips {flops - performed:,} of {flops:,} FLOPs per example (zero pixels)"
    return Throughput(peer.name, dtype, batch, rate, rate * flops / 1e9, rate * performed / 1e9, note)


def matmul_gflops(dtype: str, size: int = MATMUL_SIZE, min_seconds: float = 0.3, repeats: int = 3) -> float:
    """numpy's dense n×n matmul rate on one thread (threads are limited by the caller)."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size)).astype(dtype)
    b = rng.random((size, size)).astype(dtype)
    out = np.empty((size, size), dtype=dtype)
    seconds = best_seconds(lambda: np.matmul(a, b, out=out), min_seconds, repeats)
    return 2 * size ** 3 / seconds / 1e9
