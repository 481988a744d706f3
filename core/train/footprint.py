"""Memory a run will need, estimated before anything is allocated, against what the machine has.

A net of widths n_0 … n_L holds P = Σ_l (n_{l-1} + 1) n_l parameters (plus as many gradients
and a float64 copy at init) and four activation buffers of max(probe rows, batch) × Σ_{l≥1} n_l
(z, a, δ and ∂C/∂a), as experiment.Trainer allocates them.
"""

from __future__ import annotations

from vgrad.core.config import Config
from vgrad.core.errors import InputError
from vgrad.core.guard import GIB, available_memory
from vgrad.core.spec import NetSpec

SAFETY = 1.25  # aligned buffers, the packed or compressed probe set, Python objects: a quarter on top


def net_bytes(spec: NetSpec, config: Config, probe_rows: int) -> int:
    """Estimated bytes one net of `spec` allocates for training under `config`."""
    itemsize = 4 if config.dtype == "float32" else 8
    sizes = spec.sizes
    params = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    rows = max(probe_rows, config.batch_size)
    buffers = 4 * rows * sum(sizes[1:]) + config.batch_size * (sizes[0] + sizes[-1] + max(sizes[1:]))
    return int(SAFETY * (8 * params + itemsize * (2 * params + buffers)))


def check_memory(specs: tuple[NetSpec, ...], config: Config, probe_rows: int,
                 available: int | None = None) -> None:
    """Refuse a run whose nets together would need more memory than is available."""
    available = available_memory() if available is None else available
    if available is None:
        return
    needed = {spec.label: net_bytes(spec, config, probe_rows) for spec in specs}
    if sum(needed.values()) > available:
        biggest = max(needed, key=lambda label: needed[label])
        raise InputError(f"net {biggest!r} with --batch-size {config.batch_size} needs about "
                         f"{needed[biggest] / GIB:.1f} GiB; the nets together need "
                         f"{sum(needed.values()) / GIB:.1f} GiB and this machine has "
                         f"{available / GIB:.1f} GiB available")
