"""Batch norm through both lenses (medians over seeds 0–9 at init, 784-30-30-30-30-10).

Measured: plain s_1/s_4 0.0085 and ‖∂C/∂W^1‖/‖∂C/∂W^4‖ 0.015; batch norm 0.015 and 4.9.
The bias lens barely moves; the weight lens shows the first layer's gradient 5× the last's.
"""

import pytest

from vgrad.core.lab.lenses import DEEP, lens_row, markdown


@pytest.fixture(scope="module")
def rows(mnist):
    return lens_row(DEEP, mnist), lens_row(DEEP + ":batchnorm", mnist)


def test_without_batch_norm_both_lenses_see_the_first_layer_learn_far_slower(rows):
    plain, _ = rows
    assert plain.bias_ratio < 0.02 and plain.weight_ratio < 0.05


def test_the_bias_lens_is_nearly_blind_to_batch_norm(rows):
    plain, normed = rows
    assert normed.bias_ratio < 0.05 < 1 and normed.bias_ratio < 3 * plain.bias_ratio


def test_the_weight_lens_shows_batch_norm_give_the_first_layer_the_largest_gradient(rows):
    plain, normed = rows
    assert normed.weight_ratio > 2 and normed.weight_ratio > 100 * plain.weight_ratio


def test_the_table_lists_both_nets(rows):
    table = markdown(list(rows))
    assert "`784-30-30-30-30-10:batchnorm`" in table and table.count("\n") == 3
