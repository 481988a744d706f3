"""Run configuration: one frozen dataclass shared by the CLI, the runner, replay and tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vgrad.core.errors import InputError

MODES = ("speed", "sgd")
DTYPES = ("float64", "float32")
DEFAULT_EPOCHS = {"speed": 500, "sgd": 30}


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

    def as_dict(self) -> dict:
        return {**asdict(self), "epochs": self.n_epochs}

    def checked(self) -> Config:
        """Return self, or raise InputError naming the first bad value."""
        if self.mode not in MODES:
            raise InputError(f"--mode {self.mode!r}: choose {' or '.join(MODES)}")
        if self.dtype not in DTYPES:
            raise InputError(f"--dtype {self.dtype!r}: choose {' or '.join(DTYPES)}")
        if self.epochs is not None and self.epochs < 0:
            raise InputError(f"--epochs {self.epochs}: must be 0 or more")
        if not self.eta > 0:
            raise InputError(f"--eta {self.eta}: the learning rate must be > 0")
        if not self.lmbda >= 0:
            raise InputError(f"--lmbda {self.lmbda}: must be 0 or more")
        if self.batch_size < 1:
            raise InputError(f"--batch-size {self.batch_size}: must be at least 1")
        if not self.clip >= 0:
            raise InputError(f"--clip {self.clip}: must be 0 (off) or more")
        if self.probes_per_epoch < 1:
            raise InputError(f"probes per epoch {self.probes_per_epoch}: must be at least 1")
        return self


def config_from_dict(values: dict) -> Config:
    """Rebuild a Config from Config.as_dict() output (a recording's header)."""
    known = {k: v for k, v in values.items() if k in Config.__dataclass_fields__}
    return Config(**known)
