"""The book's single-neuron chain x -> (w_1, b_1) -> ... -> (w_n, b_n) -> C (NNDL ch. 5).

a_0 = x, z_j = w_j a_{j-1} + b_j, a_j = sigma(z_j), and
dC/db_1 = sigma'(z_1) w_2 sigma'(z_2) ... w_n sigma'(z_n) dC/da_n.
Each w_j sigma'(z_j) is a "factor": below 1 the gradient vanishes towards the input,
above 1 it explodes. sigma' <= 1/4, so |w_j sigma'(z_j)| >= 1 needs |w_j| >= 4, and the
range of input activations a where it holds is an interval (the chapter's problem).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

import numpy as np
from scipy.optimize import minimize_scalar

from vgrad.core.engine import activations
from vgrad.core.errors import InputError

Kind = Literal["vanishing", "neutral", "exploding"]

MIN_NEURONS = 2
MAX_NEURONS = 12  # three rows of four cards: more no longer fits a terminal
DEFAULT_NEURONS = 4
DEFAULT_WEIGHT = 1.0
DEFAULT_BIAS = 0.0
DEFAULT_INPUT = 1.0
NEUTRAL_BAND = (0.9, 1.1)
"""|w sigma'(z)| (or a gradient ratio) inside this closed band is "neutral"."""
GROWTH_MIN_WEIGHT = 4.0
"""sigma'(z) <= 1/4, so |w sigma'(w a + b)| >= 1 is impossible unless |w| >= 4."""
EXPLODING_WEIGHT = 100.0


@dataclass(frozen=True)
class Chain:
    """The chain's parameters: w_j and b_j for j = 1..n (stored 0-based) and the input x = a_0.

    Defaults (see `default_chain`): w_j = 1, b_j = 0, x = 1, so every factor is
    sigma'(z_j) < 1/4 and the gradient plainly vanishes towards the input.
    """

    weights: tuple[float, ...]
    biases: tuple[float, ...]
    x: float = DEFAULT_INPUT

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases):
            raise InputError(
                f"chain needs one bias per weight, got {len(self.weights)} weights "
                f"and {len(self.biases)} biases"
            )
        check_neurons(len(self.weights))

    @property
    def neurons(self) -> int:
        """n, the number of neurons."""
        return len(self.weights)


@dataclass(frozen=True)
class NeuronState:
    """Neuron j after a forward pass; `relative_gradient` is dC/db_j / dC/db_n.

    `kind` classifies the factor w_j sigma'(z_j), `gradient_kind` the relative gradient.
    """

    j: int
    weight: float
    bias: float
    input_activation: float
    z: float
    activation: float
    sigma_prime: float
    factor: float
    kind: Kind
    relative_gradient: float
    gradient_kind: Kind

    @property
    def grows(self) -> bool:
        """|w_j sigma'(z_j)| >= 1: a_{j-1} lies inside this neuron's growth range."""
        return abs(self.factor) >= 1.0


@dataclass(frozen=True)
class ChainState:
    """The chain after a forward pass, one `NeuronState` per neuron j = 1..n."""

    chain: Chain
    neurons: tuple[NeuronState, ...]

    @property
    def factors(self) -> tuple[float, ...]:
        """w_j sigma'(z_j) for j = 1..n."""
        return tuple(neuron.factor for neuron in self.neurons)

    @property
    def relative_gradients(self) -> tuple[float, ...]:
        """dC/db_j / dC/db_n for j = 1..n (the last is 1)."""
        return tuple(neuron.relative_gradient for neuron in self.neurons)

    @property
    def first_over_last(self) -> float:
        """dC/db_1 / dC/db_n: how much slower (< 1) or faster (> 1) the first neuron learns."""
        return self.neurons[0].relative_gradient

    @property
    def kind(self) -> Kind:
        """Whether dC/db_1 / dC/db_n vanishes, explodes, or is near 1."""
        return classify(self.first_over_last)


def sigmoid(z: float) -> float:
    """sigma(z) = 1 / (1 + e^{-z}) for one number (activations.sigmoid; e^{-z} = inf gives 0)."""
    with np.errstate(over="ignore"):
        return float(activations.sigmoid(np.float64(z)))


def sigmoid_prime(z: float) -> float:
    """sigma'(z) = sigma(z) sigma(-z) = sigma(z)(1 - sigma(z)), without cancellation."""
    return sigmoid(z) * sigmoid(-z)


def classify(value: float) -> Kind:
    """ "vanishing" below the neutral band (|value| < 0.9), "exploding" above it (> 1.1)."""
    low, high = NEUTRAL_BAND
    size = abs(value)
    if size < low:
        return "vanishing"
    if size > high:
        return "exploding"
    return "neutral"


def check_neurons(neurons: int) -> int:
    """MIN_NEURONS..MAX_NEURONS, checked before any tuple of that length is built."""
    if not MIN_NEURONS <= neurons <= MAX_NEURONS:
        raise InputError(f"--neurons {neurons}: a chain has {MIN_NEURONS} to {MAX_NEURONS} neurons")
    return neurons


def default_chain(neurons: int = DEFAULT_NEURONS, x: float = DEFAULT_INPUT) -> Chain:
    """w_j = 1, b_j = 0: every factor is sigma'(z_j) < 1/4, the plain vanishing case."""
    check_neurons(neurons)
    return Chain((DEFAULT_WEIGHT,) * neurons, (DEFAULT_BIAS,) * neurons, x)


def exploding_chain(
    neurons: int = DEFAULT_NEURONS, x: float = DEFAULT_INPUT, weight: float = EXPLODING_WEIGHT
) -> Chain:
    """The book's exploding example: w_j = 100, b_j = -100 a_{j-1}, so z_j = 0 and every factor is 25."""
    check_neurons(neurons)
    biases = []
    a = x
    for _ in range(neurons):
        bias = -(weight * a)
        biases.append(bias)
        a = sigmoid(weight * a + bias)
    return Chain((weight,) * neurons, tuple(biases), x)


def adjusted(chain: Chain, index: int, weight_step: float = 0.0, bias_step: float = 0.0) -> Chain:
    """The chain with w_{index+1} += weight_step and b_{index+1} += bias_step."""
    weights = list(chain.weights)
    biases = list(chain.biases)
    weights[index] += weight_step
    biases[index] += bias_step
    return replace(chain, weights=tuple(weights), biases=tuple(biases))


def forward(chain: Chain) -> ChainState:
    """z_j, a_j, sigma'(z_j), w_j sigma'(z_j) and dC/db_j / dC/db_n for every neuron.

    dC/db_j / dC/db_n = sigma'(z_j) w_{j+1} sigma'(z_{j+1}) ... w_{n-1} sigma'(z_{n-1}) w_n,
    i.e. sigma'(z_j)/sigma'(z_n) times the product of the factors after j; it does not
    depend on the cost, and is computed without dividing by sigma'(z_n).
    """
    n = chain.neurons
    inputs, zs, activations, primes = [], [], [], []
    a = chain.x
    for w, b in zip(chain.weights, chain.biases):
        z = w * a + b
        inputs.append(a)
        zs.append(z)
        a = sigmoid(z)
        activations.append(a)
        primes.append(sigmoid_prime(z))
    factors = [w * p for w, p in zip(chain.weights, primes)]

    relative = [1.0] * n
    upstream = chain.weights[-1]  # dC/da_j / dC/db_n, for j = n-1 here
    for j in range(n - 2, -1, -1):
        relative[j] = primes[j] * upstream
        upstream *= factors[j]

    neurons = tuple(
        NeuronState(
            j=j + 1,
            weight=chain.weights[j],
            bias=chain.biases[j],
            input_activation=inputs[j],
            z=zs[j],
            activation=activations[j],
            sigma_prime=primes[j],
            factor=factors[j],
            kind=classify(factors[j]),
            relative_gradient=relative[j],
            gradient_kind=classify(relative[j]),
        )
        for j in range(n)
    )
    return ChainState(chain, neurons)


def growth_z_half_width(w: float) -> float | None:
    """The z with sigma'(z) = 1/|w|: |w sigma'(z)| >= 1 iff |z| <= this; None if |w| < 4.

    sigma' = s(1 - s) >= 1/|w| iff s in [(1 - r)/2, (1 + r)/2], r = sqrt(1 - 4/|w|),
    so z in [-h, h] with h = ln((1 + r)/(1 - r)).
    """
    size = abs(w)
    if size < GROWTH_MIN_WEIGHT:
        return None
    r = math.sqrt(max(0.0, 1.0 - GROWTH_MIN_WEIGHT / size))
    return math.log1p(r) - math.log1p(-r)


def growth_range(w: float, b: float) -> tuple[float, float] | None:
    """The interval of a in [0, 1] where |w sigma'(w a + b)| >= 1; None if |w| < 4 or empty."""
    half = growth_z_half_width(w)
    if half is None:
        return None
    ends = sorted(((-half - b) / w, (half - b) / w))
    low, high = max(ends[0], 0.0), min(ends[1], 1.0)
    if low > high:
        return None
    return (low, high)


def growth_range_width(w: float) -> float:
    """Width of the a-interval where |w sigma'(w a + b)| >= 1, for the best b: 2h/|w|.

    Equal to the book's (2/|w|) ln(|w|(1 + sqrt(1 - 4/|w|))/2 - 1); 0 when |w| < 4.
    """
    half = growth_z_half_width(w)
    if half is None:
        return 0.0
    return 2.0 * half / abs(w)


@cache
def widest_growth_range() -> tuple[float, float]:
    """(|w|*, width*): the |w| whose growth range is widest, found numerically, and that width."""
    result = minimize_scalar(
        lambda w: -growth_range_width(w),
        bounds=(GROWTH_MIN_WEIGHT, 100.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    w_star = float(result.x)
    return w_star, growth_range_width(w_star)
