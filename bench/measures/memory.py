"""Peak memory of a long run: 4 nets, 30 sgd epochs on full-size MNIST-shaped data (synthetic).

The board keeps a downsampled history, so memory should stay flat however long the run.
Usage: python bench/measures/memory.py [--epochs 30] [--rows 60000] [--nets 4] [--json]
Prints the peak resident set size (ru_maxrss) and how it splits: data, after start-up, at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.run.board import Board
from vgrad.core.run.runner import Runner
from vgrad.core.spec import parse_net
from vgrad.core.train.warmup import compile_kernels


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_mnist(rows: int, test_rows: int = 10_000, seed: int = 0) -> Dataset:
    """MNIST-shaped data: uint8-like pixels scaled by 1/256, stored as float32 like a loaded file."""
    rng = np.random.default_rng(seed)
    x = np.empty((rows + test_rows, 784), dtype=np.float32)
    for start in range(0, len(x), 5000):  # chunks: no float64 copy of the whole set
        block = x[start:start + 5000]
        block[:] = rng.integers(0, 256, size=block.shape, dtype=np.uint8)
        block *= np.float32(1 / 256)
    y = rng.integers(0, 10, size=rows + test_rows).astype(np.int64)
    return Dataset(name=f"synthetic-{rows}", train_x=x[:rows], train_y=y[:rows], test_x=x[rows:],
                   test_y=y[rows:], probe_x=x[:1000], probe_y=y[:1000])


def measure(epochs: int, rows: int, nets: int) -> dict:
    compile_kernels()
    start_rss = peak_rss_mb()
    data = synthetic_mnist(rows)
    data_rss = peak_rss_mb()
    specs = tuple(parse_net(text) for text in
                  ["784-30-30-10", "784-30-30-30-10", "784-30-30-30-30-10", "784-30-30-30-30-10:relu:he"][:nets])
    config = Config(mode="sgd", epochs=epochs)
    board = Board(specs, epochs)
    runner = Runner.for_training(specs, data, config, board)
    began = time.perf_counter()
    runner.start()
    runner.join()
    view = board.snapshot()
    return {
        "epochs": epochs, "rows": rows, "nets": nets, "seconds": round(time.perf_counter() - began, 1),
        "states": [net.state for net in view.nets],
        "history_points": [len(net.history) for net in view.nets],
        "rss_after_compile_mb": round(start_rss, 1), "rss_after_data_mb": round(data_rss, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--nets", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.epochs, args.rows, args.nets)
    print(json.dumps(result) if args.json else "\n".join(f"{k:>22}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
