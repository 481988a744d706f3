"""The JSONL run file's format: its version, event kinds and header line (every key in the README).

Line 1 {"type": "run", "format": 2, "vgrad", "nets": [{"id", "layers", ...}], ...}: a built-in
run adds "config", "data", "seed" and each net's "spec"; a watched run (`vgrad.watch`,
`vgrad.Recorder`) adds "source" and each net's "name". Then {"type": "step", ...} lines
(StepRecord.to_json), {"type": "event", "net", "kind", ...} lines, and last
{"type": "end", "status", "elapsed"}. Every line is flushed when written, so a run cut short
is still a valid prefix; the reader plays such a prefix with a warning.

Format 2 added each net's "layers" (names), "weight_grad" in step records, null speeds
(a layer without a bias gradient), and the "restart" event (the steps after it are a new
run of that net). Readers read format 1 too.
"""

from __future__ import annotations

from typing import Any

from vgrad.core import __version__
from vgrad.core.config import Config
from vgrad.core.record.model import ModelSpec
from vgrad.core.spec import NetSpec
from vgrad.core.status import NetState

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2, 3)   # 3: lens, activations, update_ratio, saturated, dead
FINAL_EVENT_KINDS = (NetState.DIVERGED, NetState.ERROR, NetState.DONE)  # a net's last event: its final state
RESTART = "restart"                                   # the net starts again from step 0
EVENT_KINDS = (*FINAL_EVENT_KINDS, RESTART)


def run_header(specs: tuple[NetSpec, ...], config: Config, data_name: str, data_sizes: dict[str, int]
               ) -> dict[str, Any]:
    """The first line of a built-in run's file."""
    return {
        "type": "run", "format": FORMAT_VERSION, "vgrad": __version__,
        "config": config.as_dict(),
        "nets": [{"id": i, "spec": spec.label, "sizes": list(spec.sizes), "activation": spec.activation,
                  "init": spec.init, "residual": spec.residual, "cost": spec.cost,
                  "layers": list(spec.layer_names)}
                 for i, spec in enumerate(specs)],
        "data": {"name": data_name, **data_sizes},
        "seed": config.seed,
    }



def watched_header(model: ModelSpec, source: str) -> dict[str, Any]:
    """The first line of a watched model's file; `source` says which API wrote it."""
    return {"type": "run", "format": FORMAT_VERSION, "vgrad": __version__, "source": source,
            "nets": [model.as_header(0)]}
