"""Gradient-health measures beyond s_l: how many hidden neurons sit where f'(z) ≈ 0."""

from __future__ import annotations

import numpy as np

from vgrad.core.engine.activations import FUNCTIONS
from vgrad.core.engine.net import NetLayout, reference_forward
from vgrad.core.spec import NetSpec

SATURATION_THRESHOLD = 0.01  # f'(z) below this: the neuron passes almost no gradient back


def saturated_fraction(spec: NetSpec, layout: NetLayout, params: np.ndarray, x: np.ndarray,
                       threshold: float = SATURATION_THRESHOLD) -> float:
    """Fraction of (example, hidden neuron) pairs with f'(z) < threshold over the batch x."""
    f_prime = FUNCTIONS[spec.activation][1]
    with np.errstate(over="ignore"):
        zs, _ = reference_forward(spec, layout, params, x)
        hidden = np.concatenate([f_prime(z) for z in zs[:-1]], axis=1)
    return float(np.mean(hidden < threshold))
