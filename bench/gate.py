"""The correctness gate: before anything is timed, the engine's gradients and its fused SGD
update, and every peer's gradient, are checked against the plain-numpy reference
(core/engine/net.py's reference_backward). A wrong result raises WrongResult and no speed
is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgrad.bench.peers import EnginePeer, Peer, peer_classes
from vgrad.bench.problem import ETA, LMBDA, Problem
from vgrad.core.config import DTYPES
from vgrad.core.data import one_hot
from vgrad.core.engine.net import reference_backward

TOLERANCE = {"float64": 1e-10, "float32": 2e-5}
TORCH_SLACK = 100  # PyTorch sums in its own order (and BCE-with-logits): a looser bound


class WrongResult(Exception):
    """The engine (or a peer) computed a wrong gradient: no speed is reported for it."""


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


def _relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """max |ours − ref| / max(1, max |ref|): absolute for small gradients, relative for big ones."""
    scale = max(1.0, float(np.max(np.abs(reference))))
    return float(np.max(np.abs(ours - reference)) / scale)


def _as_compared(params: np.ndarray, dtype: str) -> np.ndarray:
    """Compare like with like: the reference runs on the parameters rounded to `dtype`."""
    return params if dtype == "float64" else params.astype(np.float32).astype(np.float64)


def check_engine(problem: Problem, dtype: str) -> list[Check]:
    """The engine's full-batch gradient (the packed path) and one fused SGD step against the reference."""
    spec, layout, data = problem.spec, problem.layout, problem.data
    params = _as_compared(problem.params, dtype)
    probe_y = one_hot(data.probe_y, data.n_classes).astype(np.float64)
    probe_x = data.probe_x.astype(np.float64)
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
    """A peer's mean gradient on the first 50 probe images against the reference."""
    data = problem.data
    x = data.probe_x[:50].astype(np.float64)
    y = one_hot(data.probe_y[:50], data.n_classes).astype(np.float64)
    reference, _ = reference_backward(problem.spec, problem.layout, _as_compared(problem.params, dtype), x, y)
    return Check(f"{peer.name} {dtype} gradient (50 images)", _relative_error(peer.gradient(x, y), reference),
                 TOLERANCE[dtype] * (TORCH_SLACK if peer.name == "torch" else 1))


def gate(problem: Problem, peers: tuple[str, ...]) -> list[Check]:
    """Every check, for every dtype: the engine's own, then each other peer's; WrongResult if one fails."""
    classes = peer_classes()
    checks: list[Check] = []
    for dtype in DTYPES:
        checks += check_engine(problem, dtype)
        checks += [check_peer(classes[name](problem, dtype), problem, dtype) for name in peers if name != "vgrad"]
    wrong = [c for c in checks if not c.passed]
    if wrong:
        raise WrongResult("; ".join(f"{c.what}: error {c.max_error:.3g} > {c.tolerance:g}" for c in wrong))
    return checks
