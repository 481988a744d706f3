"""Reproduce the book's speed-of-learning figures over many seeds.

For each of the book's three nets and each seed: s_l at initialisation (compared
with the book and our 200-seed bands) and s_l after the full-batch run (is the
earlier hidden layer still the slower one?). Seeds run on a small thread pool;
the kernels release the GIL.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.errors import InputError
from vgrad.core.lab.book import ADJACENT_RATIO, BOOK_NETS, Band, BookNet
from vgrad.core.spec import parse_net
from vgrad.core.train.experiment import make_trainer, run_experiment
from vgrad.core.train.trainer import Trainer


@dataclass(frozen=True)
class LayerResult:
    layer: int                 # 1-based hidden layer
    book: float                # the book's s_l at init
    median: float              # our median over seeds
    p5: float
    p95: float
    band: Band                 # the reference band the median must lie in
    passed: bool


@dataclass(frozen=True)
class NetResult:
    spec: str
    seeds: int
    layers: tuple[LayerResult, ...]
    adjacent_ratio: float      # median over seeds and layers of s_{l+1}/s_l at init
    ratio_passed: bool
    epochs: int
    final_speeds: tuple[float, ...]   # median s_l at the book's last point, epoch max(epochs − 1, 0)
    ordered_seeds: int         # seeds whose s_1 < s_2 < … < s_k at that point
    ordering_passed: bool

    @property
    def passed(self) -> bool:
        return all(layer.passed for layer in self.layers) and self.ratio_passed and self.ordering_passed

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def init_speeds(spec_text: str, data: Dataset, seeds: range, **config) -> np.ndarray:
    """s_l at initialisation for each seed: an array (seeds, hidden layers)."""
    spec = parse_net(spec_text)
    return np.array([make_trainer(spec, data, Config(seed=seed, **config)).probe()[0] for seed in seeds])


def _seed_run(book_net: BookNet, data: Dataset, seed: int, epochs: int, dtype: str) -> tuple[tuple, tuple]:
    """(s_l at init in float64, s_l at the book's last point of a run in `dtype`) for one seed.

    The book's figure (generate_gradient.py) measures before each of its `epochs` steps and plots
    epochs 0 … E − 1, so its last point is the gradient the E-th step uses: our record at epoch
    E − 1, not the one after the last step (a diverged run: its last record)."""
    spec = parse_net(book_net.spec)
    init = Trainer(spec, data, Config(seed=seed)).probe()[0]
    if epochs == 0:
        return init, init
    final = init
    for record in run_experiment(spec, data, Config(mode="speed", epochs=epochs, seed=seed, dtype=dtype)):
        final = record.speed
        if record.epoch == epochs - 1:
            break
    return init, final


def check_data(data: Dataset) -> Dataset:
    """The data must fit the book's nets (784 inputs, 10 classes: not `digits`), or InputError
    naming the data, which is the user's choice (the nets are the book's)."""
    for net in BOOK_NETS:
        try:
            parse_net(net.spec).with_input(data.n_inputs, data.n_classes)
        except InputError:
            raise InputError(f"--data {data.name}: {data.n_inputs} inputs and {data.n_classes} classes; the book's "
                             "nets read MNIST's 784 pixels and 10 digits (use mnist or a full MNIST file)") from None
    return data


MAX_SEEDS = 10_000   # per net: the bands are medians and percentiles; more seeds change nothing but the wait


def reproduce(data: Dataset, seeds: int = 20, epochs: int = 500, workers: int = 2, dtype: str = "float64",
              progress: Callable[[int, int], None] | None = None) -> list[NetResult]:
    """Run every (net, seed) pair and compare with the book; progress(done, total) as it goes.

    s_l at init is always measured in float64; `dtype` applies to the `epochs`-long runs.
    """
    jobs = [(net, seed) for net in BOOK_NETS for seed in range(seeds)]
    outcomes: dict[tuple[str, int], tuple] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_seed_run, net, data, seed, epochs, dtype): (net.spec, seed)
                   for net, seed in jobs}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                outcomes[futures[future]] = future.result()
                if progress:
                    progress(done, len(jobs))
        except BaseException:   # Ctrl+C: the runs not started are dropped, only those running are waited for
            for future in futures:
                future.cancel()
            raise
    return [_summarise(net, [outcomes[(net.spec, seed)] for seed in range(seeds)], epochs)
            for net in BOOK_NETS]


def _summarise(net: BookNet, runs: list[tuple], epochs: int) -> NetResult:
    init = np.array([run[0] for run in runs])    # (seeds, k)
    final = np.array([run[1] for run in runs])   # (seeds, k)
    layers = []
    for index, (book_value, band) in enumerate(zip(net.book_speeds, net.bands)):
        column = init[:, index]
        median = float(np.median(column))
        layers.append(LayerResult(layer=index + 1, book=book_value, median=median,
                                  p5=float(np.percentile(column, 5)), p95=float(np.percentile(column, 95)),
                                  band=band, passed=band.contains(median)))
    ratio = float(np.median(init[:, 1:] / init[:, :-1]))
    ordered = int(np.sum(np.all(final[:, :-1] < final[:, 1:], axis=1))) if epochs > 0 else 0
    return NetResult(spec=net.spec, seeds=len(runs), layers=tuple(layers), adjacent_ratio=ratio,
                     ratio_passed=ADJACENT_RATIO.contains(ratio), epochs=epochs,
                     final_speeds=tuple(float(v) for v in np.median(final, axis=0)),
                     ordered_seeds=ordered, ordering_passed=epochs == 0 or ordered == len(runs))
