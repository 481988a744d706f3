"""A panel's rows × time through a lens: folded, smoothed (EMA over N records), never rewriting a record."""

import math

import numpy as np

from vgrad.core.record.model import ModelSpec
from vgrad.core.record.step import StepRecord
from vgrad.core.view.lens import BIAS, WEIGHT
from vgrad.core.view.series import grouped, panel_series, series, smooth


def record(step, speed, weight=None):
    return StepRecord(net=0, epoch=0, step=step, speed=speed, neurons=((),) * len(speed), cost=1.0,
                      weight_grad=weight)


def test_values_through_a_lens_with_not_measured_kept_apart_from_nan():
    data = series([record(0, (0.1, None)), record(1, (math.nan, 0.2))], BIAS, ("a", "b"))
    assert data.value(0, 0) == 0.1 and data.value(0, 1) is None
    assert math.isnan(data.value(1, 0)) and data.latest()[1] == 0.2
    assert series([record(0, (0.1, 0.2))], WEIGHT, ("a", "b")).latest() == (None, None)


def test_a_folded_block_is_the_root_sum_square_of_its_layers():
    data = series([record(0, (3.0, 4.0, 1.0))], BIAS, ("b.0.x", "b.0.y", "head"))
    folded = grouped(data, (("b.0", (0, 1)), ("head", (2,))))
    assert folded.names == ("b.0", "head") and folded.latest() == (5.0, 1.0)


def test_smoothing_is_an_ema_over_n_records_and_keeps_the_raw_band():
    history = [record(step, (1.0 if step % 2 else 3.0,)) for step in range(40)]
    data = smooth(series(history, BIAS, ("a",)), 9)
    assert data.smoothed == 9 and abs(data.latest()[0] - 2.0) < 0.15          # α = 0.2: near the mean
    assert data.low[-1, 0] == 1.0 and data.high[-1, 0] == 3.0


def test_smoothing_lets_a_bad_value_show_and_not_ruin_the_average():
    history = [record(0, (1.0,)), record(1, (math.inf,)), record(2, (1.0,))]
    data = smooth(series(history, BIAS, ("a",)), 5)
    assert math.isinf(data.value(1, 0)) and data.value(2, 0) == 1.0


def test_thinned_history_decays_by_the_records_between():
    """The board keeps every 2nd record of a long run: a gap of two records decays twice."""
    dense = smooth(series([record(step, (float(step),)) for step in range(0, 20)], BIAS, ("a",)), 5)
    kept = [*range(0, 10), *range(10, 20, 2)]            # as a Board thins: dense first, then every 2nd
    thin = smooth(series([record(step, (float(step),)) for step in kept], BIAS, ("a",)), 5)
    assert abs(dense.latest()[0] - thin.latest()[0]) < 1.0     # a record apart each: 2.9 off


def test_a_panel_series_names_rows_as_the_panel_does():
    spec = ModelSpec("M", tuple(f"transformer.layers.{i}.mlp.fc1" for i in range(3)) + ("lm_head",))
    data = panel_series([record(0, (1.0, 1.0, 1.0, 2.0))], spec, BIAS, fold=True)
    assert data.names == ("layers.0", "layers.1", "layers.2", "lm_head")
    assert np.array_equal(data.steps, [0])
