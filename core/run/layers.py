"""Which layers of a deep model a panel shows (`--layers`), and records cut down to them.

A panel shows every layer by default (a deep model's panel is a layer × time heatmap, its
layers binned to the lines there are), or the layers `--layers` names, at most MAX_SHOWN, the
first and the last always (the headline compares them). `watch` and `replay` share this.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace

from vgrad.core.errors import InputError
from vgrad.core.record.model import ModelSpec
from vgrad.core.record.reader import Recording
from vgrad.core.record.step import StepRecord
from vgrad.core.subject import Subject

DEFAULT_LAYERS = "0,1,mid,-2,-1"   # what `--layers` names when it names no index
MAX_SHOWN = 64              # layers `--layers` may name
LAYER_INDEX = re.compile(r"-?[0-9]{1,9}", re.ASCII)   # 0, 12, -1: never `--1`, `²` or `+3`
PER_LAYER = tuple(name for name in ("weight_grad", "update_ratio")   # a record's other per-layer values
                  if name in {field.name for field in fields(StepRecord)})


def parse_layers(text: str | None) -> tuple[str, ...] | None:
    """`--layers 0,1,mid,-2,-1` (indices from 0, negative from the end, `mid`) or `all`; None: the default."""
    if text is None:
        return None
    words = tuple(word.strip().lower() for word in text.split(","))
    if words == ("all",):
        return words
    for word in words:
        if word != "mid" and not LAYER_INDEX.fullmatch(word):
            raise InputError(f"--layers {text!r}: {word!r} is not a layer index, `mid` or `all` "
                             "(e.g. 0,1,mid,-2,-1)")
    if len(set(words)) > MAX_SHOWN:
        raise InputError(f"--layers: {len(set(words))} layers named; a panel shows at most {MAX_SHOWN}")
    return words


def select(count: int, words: tuple[str, ...] | None) -> tuple[int, ...]:
    """The layers shown of a model with `count` layers, in order; always the first and the last."""
    if words is None or words == ("all",):     # every layer: the heatmap bins what does not fit
        return tuple(range(count))
    chosen = {0, count - 1}
    for word in words or DEFAULT_LAYERS.split(","):
        index = count // 2 if word == "mid" else int(word)
        if -count <= index < count:
            chosen.add(index % count)
    return tuple(sorted(chosen))


def project_spec(spec: Subject, shown: tuple[int, ...]) -> Subject:
    if not isinstance(spec, ModelSpec) or len(shown) == spec.hidden:
        return spec
    return replace(spec, layers=tuple(spec.layers[i] for i in shown), total=spec.hidden)


def project(record: StepRecord, net: int, shown: tuple[int, ...] | None) -> StepRecord:
    """`record` as board slot `net` sees it: only the `shown` layers."""
    if shown is None:
        return record if record.net == net else replace(record, net=net)
    others = {name: None if (values := getattr(record, name)) is None else tuple(values[i] for i in shown)
              for name in PER_LAYER}
    return replace(record, net=net, speed=tuple(record.speed[i] for i in shown),
                   neurons=tuple(record.neurons[i] for i in shown), **others)


def shown_of(spec: Subject, words: tuple[str, ...] | None) -> tuple[int, ...] | None:
    """The layers of `spec` a panel shows, or None when it shows them all (a built-in net always)."""
    if not isinstance(spec, ModelSpec):
        return None
    shown = select(spec.hidden, words)
    return None if len(shown) == spec.hidden else shown


def shown_recording(recording: Recording, words: tuple[str, ...] | None = ("all",)) -> Recording:
    """`recording` with each watched model cut down to the layers a panel shows (replay: all of
    them); the same if none is cut."""
    shown = [shown_of(spec, words) for spec in recording.specs]
    if all(layers is None for layers in shown):
        return recording
    specs = tuple(spec if layers is None else project_spec(spec, layers)
                  for spec, layers in zip(recording.specs, shown, strict=True))
    steps = [project(step, step.net, shown[step.net]) for step in recording.steps]
    return replace(recording, started=replace(recording.started, specs=specs), steps=steps)
