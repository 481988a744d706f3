"""The lenses: each chooses a value of a record (s_l, ‖∂C/∂W‖, the update ratio, the saturated
or dead fraction); none rewrites a record."""

import math
from dataclasses import replace

from vgrad.core.record.model import ModelSpec
from vgrad.core.record.step import StepRecord
from vgrad.core.spec import parse_net
from vgrad.core.view.lens import (
    BIAS,
    SATURATION,
    UPDATE,
    WEIGHT,
    combine,
    default_lens,
    lens_values,
    lenses_in,
    next_lens,
    outside_band,
    row_names,
)

RECORD = StepRecord(net=0, epoch=3, step=3, speed=(0.001, 0.1), neurons=((0.0,), (0.0,)), cost=1.0,
                    weight_grad=(0.5, 0.25))
OLD = StepRecord(net=0, epoch=0, step=0, speed=(0.001, 0.1), neurons=((0.0,), (0.0,)), cost=1.0)
FULL = replace(RECORD, update_ratio=(2e-5, 3e-3), saturated=(0.4, None), dead=(None, 0.1))


def test_each_lens_reads_its_own_field_and_leaves_the_record_as_it_was():
    before = FULL
    assert lens_values(FULL, BIAS) == (0.001, 0.1)
    assert lens_values(FULL, WEIGHT) == (0.5, 0.25)
    assert lens_values(FULL, UPDATE) == (2e-5, 3e-3)
    assert FULL == before and FULL.speed == (0.001, 0.1)


def test_saturation_reads_the_saturated_fraction_or_else_the_dead_one():
    """sigmoid/tanh units saturate, ReLU-family units die: one row per activation either way."""
    assert lens_values(FULL, SATURATION) == (0.4, 0.1)


def test_a_lens_never_measured_reads_none():
    assert lens_values(OLD, WEIGHT) is None and lens_values(OLD, UPDATE) is None
    assert lens_values(OLD, SATURATION) is None


def test_the_lenses_a_history_has_in_cycle_order():
    assert lenses_in([OLD]) == (BIAS,)
    assert lenses_in([OLD, FULL]) == (BIAS, WEIGHT, UPDATE, SATURATION)
    assert next_lens(BIAS, (BIAS, WEIGHT)) == WEIGHT and next_lens(WEIGHT, (BIAS, WEIGHT)) == BIAS
    assert next_lens(UPDATE, (BIAS,)) == BIAS


def test_a_bias_free_model_opens_on_the_weight_lens_unless_its_file_says_otherwise():
    spec = ModelSpec("GPT", ("a", "b"))
    free = StepRecord(net=0, epoch=0, step=0, speed=(None, None), neurons=((), ()), cost=1.0, weight_grad=(1.0, 2.0))
    assert default_lens(spec, [free]) == WEIGHT
    assert default_lens(spec, [RECORD]) == BIAS
    assert default_lens(replace(spec, lens="weight"), [RECORD]) == WEIGHT        # a format 3 header says so
    assert default_lens(parse_net("4-3-3-2")) == BIAS


def test_the_saturation_rows_are_the_activations():
    spec = ModelSpec("MLP", ("fc1", "fc2", "head"), activations=("act1", "act2"))
    assert row_names(spec, SATURATION) == ("act1", "act2") and row_names(spec, BIAS) == ("fc1", "fc2", "head")
    assert row_names(parse_net("4-3-3-2"), SATURATION) == ("h1", "h2")


def test_rows_combine_as_a_block_would():
    """Norms as the block's own norm (root-sum-square), update ratios as their root-mean-square,
    fractions as the worst; a bad value shows, not measured stays so."""
    assert combine((3.0, 4.0), BIAS) == 5.0
    assert math.isclose(combine((1e-3, 1e-3), UPDATE), 1e-3)
    assert combine((0.2, 0.7), SATURATION) == 0.7
    assert math.isnan(combine((1.0, math.nan), WEIGHT))
    assert combine((None, None), BIAS) is None and combine((None, 2.0), BIAS) == 2.0


def test_the_update_ratio_band():
    assert outside_band(2e-5, UPDATE) and outside_band(0.05, UPDATE)
    assert not outside_band(1e-3, UPDATE) and not outside_band(5.0, BIAS) and not outside_band(None, UPDATE)
