"""Step records: the plain data every part of vgrad passes around.

One StepRecord is one measurement of a net: the speed of learning s_l of each
hidden layer (the L2 norm of the mean bias gradient ‖(1/N) Σ_x δ^l_x‖ over the
probe set), the signed mean ∂C/∂b of the first min(6, width) neurons of each hidden
layer, the cost, (sgd mode, at epoch ends) the test accuracy, and, when measured, the
weight lens ‖(1/N) Σ_x ∂C_x/∂W^l‖ per hidden layer, the update ratio ‖Δθ‖/‖θ‖ per layer,
and per activation the fraction of saturated units and of dead units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

NEURONS_SHOWN = 6


@dataclass(frozen=True)
class StepRecord:
    net: int                                  # index of the net in the run (0-based)
    epoch: int                                # epochs completed when measured
    step: int                                 # parameter updates done when measured
    speed: tuple[float | None, ...]           # s_1 … s_k, one per hidden layer (None: no bias gradient)
    neurons: tuple[tuple[float, ...], ...]    # per hidden layer, first min(6, width) ∂C/∂b_j
    cost: float | None                        # cost on the probe set, L2 term included (None: not given)
    accuracy: float | None = None             # test accuracy in [0, 1] (sgd, epoch ends)
    weight_grad: tuple[float | None, ...] | None = None  # ‖mean ∂C/∂W^l‖ per hidden layer, if measured
    update_ratio: tuple[float | None, ...] | None = None  # ‖Δθ‖/‖θ‖ per layer at this step, if measured
    saturated: tuple[float | None, ...] | None = None     # per activation: fraction of units saturated
    dead: tuple[float | None, ...] | None = None          # per activation: fraction of units dead (ReLU family)

    @property
    def is_finite(self) -> bool:
        values = [self.cost, *self.speed, *(v for layer in self.neurons for v in layer),
                  *(v for values in self.optional_series().values() for v in values)]
        return all(math.isfinite(v) for v in values if v is not None)

    def out_of_range(self) -> str | None:
        """Which value no writer of the format writes, or None: a finite norm or update ratio below 0,
        a finite accuracy or saturated/dead share outside [0, 1] (nan and inf mark a diverged run)."""
        for what, values, low, high in (("speed", self.speed, 0.0, math.inf),
                                        ("weight_grad", self.weight_grad or (), 0.0, math.inf),
                                        ("update_ratio", self.update_ratio or (), 0.0, math.inf),
                                        ("accuracy", (self.accuracy,), 0.0, 1.0),
                                        ("saturated", self.saturated or (), 0.0, 1.0),
                                        ("dead", self.dead or (), 0.0, 1.0)):
            bad = next((v for v in values if v is not None and math.isfinite(v) and not low <= v <= high), None)
            if bad is not None:
                return f"has {what} {bad:g}, outside {low:g}…{high:g}"
        return None

    def optional_series(self) -> dict[str, tuple[float | None, ...]]:
        """The measured optional series by their JSON keys (absent: not measured)."""
        series = {"weight_grad": self.weight_grad, "update_ratio": self.update_ratio,
                  "saturated": self.saturated, "dead": self.dead}
        return {key: values for key, values in series.items() if values is not None}

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "step", "net": self.net, "epoch": self.epoch, "step": self.step,
            "speed": [_num(v) for v in self.speed],
            "neurons": [[_num(v) for v in layer] for layer in self.neurons],
            "cost": _num(self.cost), "accuracy": self.accuracy,
            **{key: [_num(v) for v in values] for key, values in self.optional_series().items()},
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> StepRecord:
        return cls(
            net=int(row["net"]), epoch=int(row.get("epoch") or 0), step=int(row["step"]),
            speed=tuple(_value(v) for v in row["speed"]),
            neurons=tuple(tuple(float(v) for v in layer[:NEURONS_SHOWN]) for layer in row["neurons"]),
            cost=_value(row.get("cost")),
            accuracy=None if row.get("accuracy") is None else float(row["accuracy"]),
            weight_grad=_series(row.get("weight_grad")), update_ratio=_series(row.get("update_ratio")),
            saturated=_series(row.get("saturated")), dead=_series(row.get("dead")),
        )


def _num(value: float | None) -> float | str | None:
    """JSON has no NaN/inf: write them as the strings "nan", "inf", "-inf"; None (no value) as null."""
    return value if value is None or math.isfinite(value) else str(value)


def _value(value: float | str | None) -> float | None:
    """A number as written by _num: null stays None."""
    return None if value is None else float(value)


def _series(values: list[float | str | None] | None) -> tuple[float | None, ...] | None:
    """An optional series as written by to_json: absent or null stays None (not measured)."""
    return None if values is None else tuple(_value(v) for v in values)
