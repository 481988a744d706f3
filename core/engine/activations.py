"""Activation functions f(z) and their derivatives f'(z), in plain numpy, and the codes
the numba kernels switch on.

These are the reference the kernels are tested against; the kernels compute σ with
simd/vector_math's exp (or libm's, portable.py) and read every constant below. The output layer is always sigmoid,
as in the book's network2.
"""

from __future__ import annotations

import numpy as np

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
SIGMOID, TANH, RELU, LEAKY_RELU, ELU = range(5)  # activation codes (kernels.py switches on them)
CROSS_ENTROPY, QUADRATIC = range(2)  # cost codes
CE_EPS = 1e-300  # the cross-entropy takes ln max(a, ε): finite where a saturates to exactly 0 or 1


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z})."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """σ'(z) = σ(z)(1 − σ(z)), at most 1/4."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_prime(z):
    """tanh'(z) = 1 − tanh²(z)."""
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(z, 0.0)


def relu_prime(z):
    """1 for z > 0, else 0 (0 at z = 0)."""
    return (z > 0).astype(np.asarray(z).dtype)


def leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(np.asarray(z).dtype)


def elu(z):
    return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def elu_prime(z):
    return np.where(z > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(z, 0.0))).astype(np.asarray(z).dtype)


FUNCTIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (np.tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "elu": (elu, elu_prime),
}

CODES = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU, "elu": ELU}
COST_CODES = {"cross_entropy": CROSS_ENTROPY, "quadratic": QUADRATIC}
