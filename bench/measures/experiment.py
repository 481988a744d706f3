"""The default three-net speed experiment, timed: the engine on one thread and on two cores,
batched numpy on two cores, and two nets on two threads against one."""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from vgrad.bench.peers import NumpyPeer
from vgrad.bench.problem import NET, Problem, book_specs
from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.engine.net import init_params
from vgrad.core.spec import parse_net


@contextlib.contextmanager
def on_cpus(count: int) -> Iterator[bool]:
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


def seconds_on_threads(work: Callable[[Any], None], items: Sequence[Any]) -> float:
    """Wall seconds to run work(item) for every item, each on its own thread."""
    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def engine_experiment(data: Dataset, epochs: int, cpus: int | None) -> float:
    """Seconds for the three book nets' speed experiment, records published on a Board.

    cpus=None: one worker thread runs the nets one after another; cpus=n: the Runner
    (one thread per net, as `vgrad-tui --no-ui` runs them) on n CPUs.
    """
    from vgrad.core.run.board import Board
    from vgrad.core.run.runner import Runner
    from vgrad.core.train.experiment import run_experiment

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
    with on_cpus(cpus):
        start = time.perf_counter()
        runner.start()
        runner.join()
        seconds = time.perf_counter() - start
    if runner.errors:
        raise RuntimeError(next(iter(runner.errors.values())))
    return seconds


def numpy_experiment(data: Dataset, epochs: int, cpus: int) -> float:
    """The same experiment in batched numpy: one thread per net, s_l recorded before each step and
    after the last."""
    peers = [NumpyPeer(Problem(spec, init_params(spec, np.random.default_rng(0)), data), "float64")
             for spec in book_specs(data)]

    def work(peer: NumpyPeer) -> None:
        for epoch in range(epochs + 1):
            grads_w, grads_b = peer.probe_gradients()
            _speeds = [float(np.linalg.norm(g)) for g in grads_b[:-1]]
            if epoch < epochs:
                peer.update(grads_w, grads_b, peer.n_probe)

    with on_cpus(cpus):
        return seconds_on_threads(work, peers)


def two_thread_scaling(data: Dataset, steps: int, repeats: int = 8) -> float:
    """Throughput of two nets on two threads over one net on one thread (full-batch steps).

    The two timings alternate in short windows and each keeps its best of `repeats`, so a
    moment of load from outside (a shared host) does not land on one side only.
    """
    from vgrad.core.train.trainer import Trainer

    spec = parse_net(NET).with_input(data.n_inputs, data.n_classes)
    trainers = [Trainer(spec, data, Config(mode="speed")) for _ in range(2)]

    def work(trainer: Trainer) -> None:
        for _ in range(steps):
            trainer.probe()
            trainer.full_batch_step()

    work(trainers[0])  # warm
    one = two = math.inf
    with on_cpus(2):
        for _ in range(repeats):
            one = min(one, seconds_on_threads(work, trainers[:1]))
            two = min(two, seconds_on_threads(work, trainers))
    return 2 * one / two
