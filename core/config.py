"""Run configuration: one frozen dataclass shared by the CLI, the runner, replay and tests."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from vgrad.core.errors import InputError, did_you_mean

MODES = ("speed", "sgd")
DTYPES = ("float64", "float32")
DEFAULT_EPOCHS = {"speed": 500, "sgd": 30}
MAX_EPOCHS = 10_000_000       # 10⁷ full-batch epochs is weeks of training; more is a typo
MAX_BATCH_SIZE = 1_000_000    # more rows than any dataset vgrad reads (checked against the data too)
MAX_SEED = 2**63 - 1          # numpy's default_rng takes 0 … 2⁶³−1 here
MAX_PROBES_PER_EPOCH = 10_000


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of one run (the book's defaults)."""

    mode: str = "speed"            # speed: full-batch GD on the probe set; sgd: mini-batch SGD
    epochs: int | None = None      # None: 500 (speed) or 30 (sgd)
    eta: float = 0.1               # learning rate η
    lmbda: float = 5.0             # L2 weight decay λ (decay factor 1 − ηλ/n)
    batch_size: int = 10           # sgd mini-batch size
    seed: int = 0                  # every net draws its init from this seed
    dtype: str = "float64"
    clip: float = 0.0              # clip gradients to this global norm; 0 = off
    explode_w: float = 100.0       # the `explode` init's hidden-to-hidden weight w
    probes_per_epoch: int = 10     # sgd: how often per epoch s_l is measured on the probe set

    @property
    def n_epochs(self) -> int:
        return DEFAULT_EPOCHS[self.mode] if self.epochs is None else self.epochs

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "epochs": self.n_epochs}

    def checked(self) -> Config:
        """Return self, or raise InputError naming the first bad value (also for a recording's
        header, where any field may hold any JSON type)."""
        if self.mode not in MODES:
            raise InputError(f"--mode {self.mode!r}: choose {' or '.join(MODES)}" + did_you_mean(self.mode, MODES))
        if self.dtype not in DTYPES:
            raise InputError(f"--dtype {self.dtype!r}: choose {' or '.join(DTYPES)}" + did_you_mean(self.dtype, DTYPES))
        if self.epochs is not None:
            _integer("--epochs", self.epochs, 0, MAX_EPOCHS)
        _integer("--batch-size", self.batch_size, 1, MAX_BATCH_SIZE)
        _integer("--seed", self.seed, 0, MAX_SEED)
        _integer("probes per epoch", self.probes_per_epoch, 1, MAX_PROBES_PER_EPOCH)
        if not _finite("--eta", self.eta) > 0:
            raise InputError(f"--eta {self.eta}: the learning rate must be > 0")
        if not _finite("--lmbda", self.lmbda) >= 0:
            raise InputError(f"--lmbda {self.lmbda}: must be 0 or more")
        if not _finite("--clip", self.clip) >= 0:
            raise InputError(f"--clip {self.clip}: must be 0 (off) or more")
        _finite("--explode-w", self.explode_w)
        return self


def _integer(what: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InputError(f"{what} {value!r}: must be a whole number from {low} to {high}")
    return value


def _finite(what: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise InputError(f"{what} {value!r}: must be a finite number")
    return value


def config_from_dict(values: object) -> Config:
    """Rebuild a Config from Config.as_dict() output (a recording's header); call .checked()."""
    if not isinstance(values, dict):
        raise InputError(f"config is {type(values).__name__}, not an object")
    known = {k: v for k, v in values.items() if k in Config.__dataclass_fields__}
    return Config(**known)
