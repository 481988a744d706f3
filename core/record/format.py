"""The JSONL run file's format: its version, event kinds and header line.

Line 1 {"type": "run", "format": 1, "vgrad", "config", "nets": [{"id", "spec", ...}],
"data": {"name", sizes...}, "seed"}; then {"type": "step", ...} lines (StepRecord.to_json),
{"type": "event", "net", "kind": "diverged"|"error"|"done", ...} lines, and last
{"type": "end", "status", "elapsed"}. Every line is flushed when written, so a run
cut short is still a valid prefix; the reader plays such a prefix with a warning.
"""

from __future__ import annotations

from vgrad.core import __version__
from vgrad.core.run.config import Config
from vgrad.core.run.spec import NetSpec

FORMAT_VERSION = 1
EVENT_KINDS = ("diverged", "error", "done")


def run_header(specs: tuple[NetSpec, ...], config: Config, data_name: str, data_sizes: dict) -> dict:
    """The first line of a run file."""
    return {
        "type": "run", "format": FORMAT_VERSION, "vgrad": __version__,
        "config": config.as_dict(),
        "nets": [{"id": i, "spec": spec.label, "sizes": list(spec.sizes), "activation": spec.activation,
                  "init": spec.init, "residual": spec.residual, "cost": spec.cost}
                 for i, spec in enumerate(specs)],
        "data": {"name": data_name, **data_sizes},
        "seed": config.seed,
    }
