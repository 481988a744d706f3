"""The two lenses on batch normalisation, measured: plain against batch-normalised nets at
initialisation, per hidden layer through the bias lens (s_l = ‖∂C/∂b‖, ‖∂C/∂β‖ with batch norm)
and the weight lens (‖∂C/∂W‖), medians over seeds on the probe images.

    python -m vgrad.core.lab.lenses      # the README's table, measured now
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.spec import parse_net
from vgrad.core.train.experiment import make_trainer

DEEP = "784-30-30-30-30-10"
NETS = (DEEP, DEEP + ":batchnorm")
SEEDS = range(10)


@dataclass(frozen=True)
class LensRow:
    spec: str
    bias: tuple[float, ...]      # median s_l per hidden layer
    bias_ratio: float            # median over seeds of s_1/s_k
    weight: tuple[float, ...]    # median ‖∂C/∂W^l‖ per hidden layer
    weight_ratio: float          # median over seeds of ‖∂C/∂W^1‖/‖∂C/∂W^k‖


def lens_row(spec: str, data: Dataset, seeds=SEEDS) -> LensRow:
    """Both lenses of `spec` at initialisation, one probe per seed."""
    bias, weight = [], []
    for seed in seeds:
        trainer = make_trainer(parse_net(spec), data, Config(seed=seed))
        bias.append(trainer.probe()[0])
        weight.append(trainer.weight_grads())
    b, w = np.array(bias), np.array(weight)
    return LensRow(spec, tuple(np.median(b, axis=0).tolist()), float(np.median(b[:, 0] / b[:, -1])),
                   tuple(np.median(w, axis=0).tolist()), float(np.median(w[:, 0] / w[:, -1])))


def markdown(rows: list[LensRow], seeds=SEEDS) -> str:
    """The rows as the README's table."""
    def values(numbers):
        return ", ".join(f"{v:.2g}" for v in numbers)
    lines = [f"| net (medians over seeds {seeds[0]}–{seeds[-1]}, at init) | ‖∂C/∂b‖ or ‖∂C/∂β‖ per hidden layer, "
             "1 → k | first/last | ‖∂C/∂W‖ per hidden layer, 1 → k | first/last |", "|---|---|---|---|---|"]
    lines += [f"| `{row.spec}` | {values(row.bias)} | {row.bias_ratio:.2g} | {values(row.weight)} | "
              f"{row.weight_ratio:.2g} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    from vgrad.core.data import load_dataset

    mnist = load_dataset("mnist")
    print(markdown([lens_row(spec, mnist) for spec in NETS]))
