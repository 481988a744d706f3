"""Initialisations have the statistics their names promise; residual links only where widths match."""

import numpy as np
import pytest

from vgrad.core.engine.net import RESIDUAL, init_params, make_layout
from vgrad.core.spec import parse_net

WIDE = "400-200-200-10"


def layer_stats(text, layer, seed=0):
    spec = parse_net(text)
    layout = make_layout(spec)
    params = init_params(spec, np.random.default_rng(seed))
    return layout.weight(params, layer), layout.bias(params, layer)


@pytest.mark.parametrize("init, weight_std, bias_std", [
    ("book", 1 / np.sqrt(200), 1.0), ("large", 1.0, 1.0),
    ("xavier", np.sqrt(2 / 400), 0.0), ("he", np.sqrt(2 / 200), 0.0),
])
def test_init_scales(init, weight_std, bias_std):
    weight, bias = layer_stats(f"{WIDE}:{init}", layer=1)
    assert weight.std() == pytest.approx(weight_std, rel=0.03)
    assert abs(weight.mean()) < 0.05 * weight_std * 10
    if bias_std:
        assert bias.std() == pytest.approx(bias_std, rel=0.15)
    else:
        assert np.all(bias == 0)


def test_explode_sets_hidden_weights_to_w_and_centres_z():
    rng = np.random.default_rng(0)
    probe = rng.random((300, 20))
    spec = parse_net("20-1-1-1-1-3:explode")
    layout = make_layout(spec)
    params = init_params(spec, np.random.default_rng(1), probe_x=probe, explode_w=100.0)
    for layer in (1, 2, 3):
        assert np.all(layout.weight(params, layer) == 100.0)
    a = 1 / (1 + np.exp(-(probe @ layout.weight(params, 0).T + layout.bias(params, 0))))
    z = a @ layout.weight(params, 1).T + layout.bias(params, 1)
    assert abs(z.mean()) < 1e-9


def test_explode_needs_the_probe_set():
    with pytest.raises(ValueError, match="probe"):
        init_params(parse_net("20-1-1-3:explode"), np.random.default_rng(0))


def test_residual_links_join_equal_width_hidden_layers_only():
    table = make_layout(parse_net("784-30-30-20-20-10:residual")).table
    assert list(table[:, RESIDUAL]) == [0, 1, 0, 1, 0]
    assert not make_layout(parse_net("784-30-30-10")).table[:, RESIDUAL].any()


def test_same_seed_same_parameters():
    spec = parse_net("784-30-30-10")
    first = init_params(spec, np.random.default_rng(5))
    assert np.array_equal(first, init_params(spec, np.random.default_rng(5)))
