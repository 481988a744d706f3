"""Net specs: the grammar, its defaults, and a one-line InputError for every bad spec."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vgrad.core.engine.net import make_layout
from vgrad.core.errors import InputError
from vgrad.core.spec import AUTO, NetSpec, parse_net, parse_nets


def test_plain_widths_give_the_book_network():
    spec = parse_net("784-30-30-10")
    assert spec == NetSpec(sizes=(784, 30, 30, 10))
    assert spec.hidden == 2 and spec.label == "784-30-30-10"


def test_options_in_any_order_and_flags_fill_the_gaps():
    spec = parse_net("auto-30-30-10:he:relu:residual", cost="quadratic")
    assert spec.sizes == (AUTO, 30, 30, 10)
    assert (spec.activation, spec.init, spec.residual, spec.cost) == ("relu", "he", True, "quadratic")
    assert spec.label == "auto-30-30-10:relu:he:residual:quadratic"
    assert parse_net(spec.label) == spec


def test_spec_options_win_over_flags():
    assert parse_net("784-30-10:tanh", activation="relu").activation == "tanh"


def test_auto_input_is_filled_from_the_data():
    assert parse_net("auto-30-10").with_input(64, 10).sizes == (64, 30, 10)


@pytest.mark.parametrize("text, culprit", [
    ("784-x-10", "'x'"), ("784-0-10", "width 0"), ("784--10", "''"), ("784-30", "at least one hidden"),
    ("784-30-10:swish", "'swish'"), ("784-30-10:relu:tanh", "activation given twice"),
    ("784" + "-30" * 9 + "-10", "9 hidden layers"), ("", "empty"), ("784--5-10", "''"),
])
def test_bad_specs_are_refused_with_a_reason(text, culprit):
    with pytest.raises(InputError) as error:
        parse_net(text)
    assert culprit in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("text, skips", [
    ("784-30-30-10:residual", (2,)), ("784-30-30-30-30-10:res", (2, 3, 4)),
    ("784-30-30-20-20-10:residual", (2, 4)), ("784-30-30-10", ()),
])
def test_residual_skips_go_wherever_a_hidden_layer_is_as_wide_as_the_one_before(text, skips):
    spec = parse_net(text)
    assert spec.skip_layers == skips
    flags = make_layout(spec).table[:, 4]  # the engine's own residual flag per weight layer
    assert tuple(int(layer) + 1 for layer in flags.nonzero()[0]) == skips


@pytest.mark.parametrize("text, flag", [("784-30-20-10:residual", None), ("784-30-10", True),
                                        ("784-30-20-30-10", True)])
def test_residual_with_no_two_adjacent_equal_widths_is_refused(text, flag):
    """A residual net where no layer would get a skip is a mistake, not a silent no-op."""
    with pytest.raises(InputError) as error:
        parse_net(text, residual=flag)
    message = str(error.value)
    assert "residual" in message and f"net {text!r}" in message and "no layer would get a skip" in message


def test_input_width_must_match_the_data():
    with pytest.raises(InputError, match="input width 100 does not match the data's 784"):
        parse_net("100-30-10").with_input(784, 10)
    with pytest.raises(InputError, match="output width 5"):
        parse_net("784-30-5").with_input(784, 10)


def test_one_to_four_nets():
    assert len(parse_nets(["784-30-10"] * 4)) == 4
    with pytest.raises(InputError, match="at most 4"):
        parse_nets(["784-30-10"] * 5)
    with pytest.raises(InputError, match="no net"):
        parse_nets([])


def test_unknown_flag_values_are_refused():
    with pytest.raises(InputError, match="unknown init 'huge'"):
        parse_net("784-30-10", init="huge")


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_input_error(text):
    try:
        spec = parse_net(text)
    except InputError as error:
        assert "\n" not in str(error)
    else:
        assert 1 <= spec.hidden <= 8 and all(n >= 0 for n in spec.sizes)
