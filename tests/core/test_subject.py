"""A built-in net and a watched model answer every view's questions the same way (Subject)."""

import pytest

from vgrad.core.record.model import ModelSpec, model_spec
from vgrad.core.spec import parse_net
from vgrad.core.subject import Subject

MEMBERS = [name for name in vars(Subject) if not name.startswith("_")]


def test_the_protocol_names_what_every_view_needs():
    assert set(MEMBERS) == {"label", "title", "layer_names", "hidden", "hidden_layers", "lens", "activations",
                            "activation_kinds", "description", "cost_name"}


@pytest.mark.parametrize("subject", [parse_net("784-30-30-10:tanh"),
                                     model_spec("Net", ["embed", "block.0", "head"], activations=["act"])])
def test_both_kinds_answer_every_member(subject):
    for name in MEMBERS:
        assert getattr(subject, name) is not None
    assert subject.hidden == len(subject.layer_names)
    assert subject.layer_names[:len(subject.hidden_layers)] == subject.hidden_layers
    assert len(subject.activation_kinds) in (0, len(subject.activations))


def test_a_built_in_net_is_all_hidden_layers_on_the_bias_lens():
    net = parse_net("784-30-30-30-10:relu:he")
    assert net.hidden_layers == ("h1", "h2", "h3") and net.title == "784-30-30-30-10:relu:he"
    assert (net.lens, net.activations, net.activation_kinds) == ("bias", ("h1", "h2", "h3"), ("relu",) * 3)
    assert net.cost_name == "cost"


def test_a_watched_models_last_layer_is_its_output_not_a_hidden_layer():
    model = model_spec("Net", ["embed", "block.0", "head"], lens="weight")
    assert model.hidden_layers == ("embed", "block.0") and model.lens == "weight" and model.cost_name == "loss"
    assert model.title == "Net · 3 layers"
    assert ModelSpec("Net", ("embed", "head"), total=50).title == "Net · 2 of 50 layers"
