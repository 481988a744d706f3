"""The JSONL run file's format: its version, event kinds and header lines (docs/run-format.md).

Line 1, the header: {"type": "run", "format": 3, "vgrad": version, "nets": [...]}. Each net:
"id" (0, 1, …), "layers" (row names, one per entry of a step's per-layer lists), "lens" (the
lens the viewer opens on: "bias" or "weight"), optional "activations" and "activation_kinds"
(the saturation lens's rows and each one's kind, "sigmoid", "tanh", "relu", …). A built-in
net adds "spec", "sizes", "activation", "init", "residual", "cost", and its header "config",
"data", "seed"; a watched model (`vgrad.watch`, `vgrad.Recorder`) adds "name", its header
"source".
Step lines (StepRecord.to_json): {"type": "step", "net", "epoch", "step", "speed": [s_l per
layer, null: no bias gradient], "neurons": [[≤ 6 ∂C/∂b_j] per layer], "cost", "accuracy"},
and when measured "weight_grad" [‖∂C/∂W^l‖ per layer], "update_ratio" [‖Δθ‖/‖θ‖ per layer],
"saturated" and "dead" [fraction of units per activation]. Non-finite numbers are the strings
"nan", "inf", "-inf"; null or an absent key is not measured.
Events {"type": "event", "net", "kind", ...} (kinds below), and last {"type": "end",
"status", "elapsed"}. Every line is flushed when written, so a run cut short is still a
valid prefix; the reader plays such a prefix with a warning.

Format 2 added "layers", "weight_grad", null speeds and the "restart" event; format 3 "lens",
"activations", "activation_kinds", "update_ratio", "saturated", "dead". Readers read formats
1 to 3 and refuse a higher one in a line: it was made by a newer vgrad.
"""

from __future__ import annotations

from typing import Any

from vgrad.core import __version__
from vgrad.core.config import Config
from vgrad.core.record.model import ModelSpec
from vgrad.core.spec import NetSpec
from vgrad.core.status import NetState

FORMAT_VERSION = 3
READABLE_FORMATS = (1, 2, 3)
FINAL_EVENT_KINDS = (NetState.DIVERGED, NetState.ERROR, NetState.DONE)  # a net's last event: its final state
RESTART = "restart"                                   # the net starts again from step 0
EVENT_KINDS = (*FINAL_EVENT_KINDS, RESTART)
MAX_LINE = 1 << 23   # bytes in one line: readers read no more, the writer never writes more; a header naming
                     # MAX_LAYERS layers and as many activations, ASCII names of MAX_NAME characters, and a
                     # record with every series for MAX_LAYERS layers both fit (tests/core/record/test_writer.py)
MAX_STEP = 2**53     # parameter updates: counts beyond this are not exact as floats


def run_header(specs: tuple[NetSpec, ...], config: Config, data_name: str, data_sizes: dict[str, int]
               ) -> dict[str, Any]:
    """The first line of a built-in run's file."""
    return {
        "type": "run", "format": FORMAT_VERSION, "vgrad": __version__,
        "config": config.as_dict(),
        "nets": [{"id": i, "spec": spec.label, "sizes": list(spec.sizes), "activation": spec.activation,
                  "init": spec.init, "residual": spec.residual, "cost": spec.cost,
                  "layers": list(spec.layer_names), "lens": spec.lens, "activations": list(spec.activations),
                  "activation_kinds": list(spec.activation_kinds)}
                 for i, spec in enumerate(specs)],
        "data": {"name": data_name, **data_sizes},
        "seed": config.seed,
    }



def watched_header(model: ModelSpec, source: str) -> dict[str, Any]:
    """The first line of a watched model's file; `source` says which API wrote it."""
    return {"type": "run", "format": FORMAT_VERSION, "vgrad": __version__, "source": source,
            "nets": [model.as_header(0)]}
