"""Which layers a panel shows: `--layers` words, the default for deep models, and MAX_SHOWN rows."""

import json

import pytest

from vgrad.core.errors import InputError
from vgrad.core.record.reader import read_run
from vgrad.core.run.layers import MAX_SHOWN, parse_layers, select, shown_recording


@pytest.mark.parametrize("text", ["--1", "²", "1,,2", "+3", "1.5", "٣", "0,first", "-", "1e3"])
def test_anything_but_ascii_indices_mid_or_all_is_refused_in_one_line(text):
    """`--1` and `²` passed str.isdigit and then failed int(): a traceback."""
    with pytest.raises(InputError, match=r"--layers .*is not a layer index"):
        parse_layers(text)


def test_more_words_than_a_panel_has_rows_are_refused():
    with pytest.raises(InputError, match=f"at most {MAX_SHOWN}"):
        parse_layers(",".join(map(str, range(MAX_SHOWN + 1))))


def test_indices_mid_and_negatives_pick_the_layers_in_order():
    assert parse_layers(" 0, MID ,-1") == ("0", "mid", "-1")
    assert select(12, parse_layers("3,-3,99,-99")) == (0, 3, 9, 11)


def test_a_very_deep_model_shows_every_layer_by_default_and_with_all():
    """Its panel is a heatmap that bins the layers to the lines there are: nothing is cut."""
    assert select(10_000, ("all",)) == tuple(range(10_000)) == select(10_000, None)


def test_a_ten_thousand_layer_model_replays_whole(tmp_path):
    """Every layer reaches the heatmap (its replay once built 10,000 rows: minutes before the first
    frame; the heatmap draws a line per bin of layers, tests/tui/test_heatmap.py)."""
    names = [f"layer.{i}" for i in range(10_000)]
    path = tmp_path / "deep.jsonl"
    header = {"type": "run", "format": 2, "vgrad": "x", "source": "test", "nets": [{"id": 0, "name": "big",
                                                                                    "layers": names}]}
    step = {"type": "step", "net": 0, "step": 0, "speed": [0.5] * 9_999 + [0.25], "neurons": [[0.1]] * 10_000,
            "cost": 1.0, "weight_grad": [1.0] * 10_000}
    path.write_text(json.dumps(header) + "\n" + json.dumps(step) + "\n")
    recording = shown_recording(read_run(path))
    (spec,), (record,) = recording.specs, recording.steps
    assert spec.hidden == 10_000 and spec.title == "big · 10000 layers"
    assert spec.layers[-1] == "layer.9999" and len(record.speed) == len(record.weight_grad) == 10_000
    assert record.speed[-1] == 0.25


def test_a_recording_nothing_is_cut_from_is_the_same_recording(tmp_path):
    path = tmp_path / "small.jsonl"
    path.write_text(json.dumps({"type": "run", "format": 2, "vgrad": "x", "source": "t",
                                "nets": [{"id": 0, "name": "m", "layers": ["a", "b"]}]}) + "\n")
    recording = read_run(path)
    assert shown_recording(recording) is recording
