"""Step records: the plain data every part of vgrad passes around.

One StepRecord is one measurement of a net: the speed of learning s_l of each
hidden layer (the L2 norm of the mean bias gradient ‖(1/N) Σ_x δ^l_x‖ over the
probe set), the signed mean ∂C/∂b of the first min(6, width) neurons of each hidden
layer, the cost, (sgd mode, at epoch ends) the test accuracy, and the second lens
‖(1/N) Σ_x ∂C_x/∂W^l‖ of each hidden layer when it was measured.
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
    update_ratio: tuple[float | None, ...] | None = None  # ‖Δθ‖/‖θ‖ per layer, if measured
    saturated: tuple[float | None, ...] | None = None     # saturated fraction per activation, if measured
    dead: tuple[float | None, ...] | None = None          # dead (ReLU-family) fraction per activation

    @property
    def is_finite(self) -> bool:
        values = [self.cost, *self.speed, *(self.weight_grad or ()), *(self.update_ratio or ()),
                  *(v for layer in self.neurons for v in layer)]
        return all(math.isfinite(v) for v in values if v is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "step", "net": self.net, "epoch": self.epoch, "step": self.step,
            "speed": [_num(v) for v in self.speed],
            "neurons": [[_num(v) for v in layer] for layer in self.neurons],
            "cost": _num(self.cost), "accuracy": self.accuracy,
            **{key: [_num(v) for v in values] for key, values in self._optional().items() if values is not None},
        }

    def _optional(self) -> dict[str, tuple[float | None, ...] | None]:
        return {"weight_grad": self.weight_grad, "update_ratio": self.update_ratio,
                "saturated": self.saturated, "dead": self.dead}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> StepRecord:
        return cls(
            net=int(row["net"]), epoch=int(row.get("epoch") or 0), step=int(row["step"]),
            speed=tuple(_value(v) for v in row["speed"]),
            neurons=tuple(tuple(float(v) for v in layer) for layer in row["neurons"]),
            cost=_value(row.get("cost")),
            accuracy=None if row.get("accuracy") is None else float(row["accuracy"]),
            weight_grad=_values(row.get("weight_grad")), update_ratio=_values(row.get("update_ratio")),
            saturated=_values(row.get("saturated")), dead=_values(row.get("dead")),
        )


def _num(value: float | None) -> float | str | None:
    """JSON has no NaN/inf: write them as the strings "nan", "inf", "-inf"; None (no value) as null."""
    return value if value is None or math.isfinite(value) else str(value)


def _value(value: float | str | None) -> float | None:
    """A number as written by _num: null stays None."""
    return None if value is None else float(value)


def _values(values: list[float | str | None] | None) -> tuple[float | None, ...] | None:
    """An optional per-layer list as written by _num; absent (None): not measured."""
    return None if values is None else tuple(_value(v) for v in values)
