"""The hand-written exp and log (simd/vector_math.py) at the edges of their range and against the ulp bound
their docstrings claim, measured against long double references."""

import math

import numpy as np
import pytest
from numba import njit

from vgrad.core.engine.simd import vector_math

pytestmark = pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs an extended long double")
EXP_ULPS, LOG_ULPS = 1.0, 3.0  # what vector_math's docstrings claim


@njit
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vector_math.exp(x[i])


@njit
def _log_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vector_math.log(x[i])


def _apply(function, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    function(x, out)
    return out


def _ulps(ours: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|ours − exact| in units of the last place of the double nearest to exact (the subnormal spacing
    below the normal range)."""
    nearest = exact.astype(np.float64)
    spacing = np.spacing(np.abs(nearest)).astype(np.longdouble)
    return np.asarray(np.abs(ours.astype(np.longdouble) - exact) / spacing, dtype=np.float64)


def test_exp_at_the_edges_of_its_range():
    x = np.array([math.inf, -math.inf, math.nan, 0.0, -0.0, 709.78, 709.79, 710.0, 1e308,
                  -745.2, -746.0, -1e308, -745.13, -740.0, -720.0, -708.5])
    y = _apply(_exp_all, x)
    assert y[0] == math.inf and y[1] == 0.0 and math.isnan(y[2]) and y[3] == 1.0 and y[4] == 1.0
    assert math.isfinite(y[5]) and y[5] > 1.7e308
    assert np.all(y[6:9] == math.inf) and np.all(y[9:12] == 0.0)
    subnormal = y[12:15]
    assert np.all((subnormal > 0) & (subnormal < np.finfo(np.float64).tiny))
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(y[5:], np.exp(x[5:]))  # libm's, to the bit, at these points


def test_exp_is_within_its_ulp_bound_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-745.13, 709.78, 200_000), rng.uniform(-1, 1, 50_000),
                        rng.uniform(-745.13, -708.0, 50_000)])  # the last: subnormal results
    exact = np.exp(x.astype(np.longdouble))
    assert _ulps(_apply(_exp_all, x), exact).max() <= EXP_ULPS


def test_log_at_the_edges_of_its_range():
    x = np.array([math.inf, 0.0, -0.0, -1.0, -math.inf, math.nan, 1.0, 5e-324, 2.0**-1060, 2.0**-1022,
                  np.finfo(np.float64).max])
    y = _apply(_log_all, x)
    assert y[0] == math.inf and y[1] == -math.inf and y[2] == -math.inf
    assert np.all(np.isnan(y[3:6])) and y[6] == 0.0
    np.testing.assert_array_equal(y[7:], np.log(x[7:]))  # subnormals and the extremes, to the bit


def test_log_is_within_its_ulp_bound_over_the_whole_range():
    rng = np.random.default_rng(1)
    x = np.concatenate([2.0 ** rng.uniform(-1074, 1024, 200_000), rng.uniform(0.5, 2.0, 100_000),
                        1.0 + rng.uniform(-1e-6, 1e-6, 20_000)])  # near 1, where ln x is nearly 0
    x = x[np.isfinite(x) & (x > 0)]
    exact = np.log(x.astype(np.longdouble))
    assert _ulps(_apply(_log_all, x), exact).max() <= LOG_ULPS
