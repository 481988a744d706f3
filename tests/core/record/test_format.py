"""Run file format 3: the header names each net's lens and activations, steps may carry update
ratios and saturated/dead fractions, formats 1 and 2 still read, a newer format is refused in a line."""

import json

import pytest

from vgrad.core.config import Config
from vgrad.core.errors import InputError
from vgrad.core.record.format import FORMAT_VERSION, READABLE_FORMATS, run_header, watched_header
from vgrad.core.record.model import model_spec
from vgrad.core.record.reader import read_run
from vgrad.core.record.step import StepRecord
from vgrad.core.spec import parse_net

NAN = float("nan")


def write(path, header, *rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in (header, *rows)))
    return path


def watched(**extra):
    return {"type": "run", "format": 3, "vgrad": "0", "source": "test",
            "nets": [{"id": 0, "name": "m", "layers": ["a", "b", "out"], **extra}]}


def step_row(**extra):
    return {"type": "step", "net": 0, "epoch": 0, "step": 1, "speed": [0.1, 0.2, 0.3],
            "neurons": [[], [], []], "cost": 1.0, "accuracy": None, **extra}


def test_this_vgrad_writes_format_3_and_reads_1_to_3():
    assert FORMAT_VERSION == 3 and READABLE_FORMATS == (1, 2, 3)


def test_a_built_in_header_opens_on_the_bias_lens_with_one_activation_per_hidden_layer():
    header = run_header((parse_net("784-30-30-10:tanh"),), Config(), "mnist", {})
    net = header["nets"][0]
    assert (net["lens"], net["activations"], net["activation_kinds"]) == ("bias", ["h1", "h2"], ["tanh", "tanh"])


def test_a_watched_header_names_its_lens_and_activations_only_when_given():
    plain = watched_header(model_spec("m", ["a", "out"]), "test")["nets"][0]
    assert plain == {"id": 0, "name": "m", "layers": ["a", "out"], "lens": "bias"}
    model = model_spec("m", ["a", "out"], lens="weight", activations=["act"], activation_kinds=["gelu"])
    net = watched_header(model, "test")["nets"][0]
    assert (net["lens"], net["activations"], net["activation_kinds"]) == ("weight", ["act"], ["gelu"])


def test_the_new_step_series_round_trip_and_are_left_out_when_not_measured():
    record = StepRecord(net=0, epoch=0, step=3, speed=(0.1,), neurons=((),), cost=1.0,
                        update_ratio=(1e-3,), saturated=(0.25, None), dead=(0.0, 1.0))
    row = record.to_json()
    assert (row["update_ratio"], row["saturated"], row["dead"]) == ([1e-3], [0.25, None], [0.0, 1.0])
    assert StepRecord.from_json(json.loads(json.dumps(row))) == record
    bare = StepRecord(net=0, epoch=0, step=3, speed=(0.1,), neurons=((),), cost=1.0).to_json()
    assert not {"weight_grad", "update_ratio", "saturated", "dead"} & bare.keys()


@pytest.mark.parametrize("field", ["update_ratio", "saturated", "dead"])
def test_a_non_finite_value_in_any_new_series_is_not_finite(field):
    record = StepRecord(net=0, epoch=0, step=0, speed=(0.1,), neurons=((),), cost=1.0, **{field: (NAN,)})
    assert not record.is_finite
    assert StepRecord.from_json(json.loads(json.dumps(record.to_json()))).is_finite is False


def test_a_watched_format_3_file_reads_its_lens_activations_and_series(tmp_path):
    header = watched(lens="weight", activations=["act1", "act2"], activation_kinds=["relu", "tanh"])
    path = write(tmp_path / "run.jsonl", header,
                 step_row(update_ratio=[1e-3, "inf", None], saturated=[0.5, None], dead=[0.0, 0.25]),
                 {"type": "end", "status": "complete", "elapsed": 1.0})
    recording = read_run(path)
    spec, = recording.specs
    assert (spec.lens, spec.activations, spec.activation_kinds) == ("weight", ("act1", "act2"), ("relu", "tanh"))
    step, = recording.steps
    assert step.update_ratio == (1e-3, float("inf"), None) and step.saturated == (0.5, None)
    assert step.dead == (0.0, 0.25) and recording.warning is None


def test_a_format_2_watched_file_opens_on_the_bias_lens_with_no_activations(tmp_path):
    header = {**watched(), "format": 2}
    spec, = read_run(write(tmp_path / "run.jsonl", header, step_row())).specs
    assert (spec.lens, spec.activations, spec.activation_kinds) == ("bias", (), ())


@pytest.mark.parametrize("extra, reason", [
    ({"update_ratio": [0.1]}, "1 update ratios for a net with 3 layers"),
    ({"weight_grad": [0.1, 0.2]}, "2 weight gradients for a net with 3 layers"),
    ({"saturated": [0.1]}, "1 saturated fractions for a net with 0 activations"),
    ({"dead": "x"}, "not a valid step"),
])
def test_a_step_whose_series_do_not_fit_the_net_ends_the_file_with_a_warning(tmp_path, extra, reason):
    recording = read_run(write(tmp_path / "run.jsonl", watched(), step_row(), step_row(**extra)))
    assert len(recording.steps) == 1 and reason in recording.warning


@pytest.mark.parametrize("extra, reason", [
    ({"lens": "update"}, "lens of m: 'update' is not one of bias, weight"),
    ({"activations": ["x"], "activation_kinds": ["relu", "tanh"]}, "one kind per activation"),
    ({"activations": "x"}, "give a list of activation names"),
    ({"activation_kinds": ["relu"]}, "one kind per activation (0)"),
])
def test_a_bad_lens_or_activation_list_is_a_corrupt_header(tmp_path, extra, reason):
    with pytest.raises(InputError, match="corrupt run header") as caught:
        read_run(write(tmp_path / "run.jsonl", watched(**extra)))
    assert reason in str(caught.value)


def test_a_file_from_a_newer_vgrad_is_refused_in_one_line(tmp_path):
    path = write(tmp_path / "run.jsonl", {**watched(), "format": FORMAT_VERSION + 1})
    with pytest.raises(InputError) as caught:
        read_run(path)
    message = str(caught.value)
    assert "newer vgrad" in message and "\n" not in message and str(path) in message


def test_a_followed_model_shown_in_part_keeps_each_shown_layers_update_ratio():
    from vgrad.core.run.follow_runner import project

    record = StepRecord(net=0, epoch=0, step=0, speed=(1.0, 2.0, 3.0), neurons=((), (), ()), cost=None,
                        update_ratio=(0.1, 0.2, 0.3), saturated=(0.5,))
    shown = project(record, 2, (0, 2))
    assert (shown.net, shown.speed, shown.update_ratio, shown.saturated) == (2, (1.0, 3.0), (0.1, 0.3), (0.5,))
