"""Named sets of nets: the book's experiment and the remedies to compare with it. A preset may
also choose the run's settings where the user gives none (`--eta`, `--epochs`, `--explode-w`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vgrad.core.errors import InputError, did_you_mean


@dataclass(frozen=True)
class Preset:
    nets: tuple[str, ...]
    about: str
    settings: dict[str, float | int] = field(default_factory=dict)   # Config fields, as defaults


PRESETS: dict[str, Preset] = {
    "book": Preset(("auto-30-30-10", "auto-30-30-30-10", "auto-30-30-30-30-10"),
                   "the book's three sigmoid nets: the first layer learns ~100x slower than the last"),
    "remedies": Preset(("auto-30-30-30-30-10", "auto-30-30-30-30-10:relu:he",
                        "auto-30-30-30-30-10:residual", "auto-30-30-30-30-10:tanh:xavier"),
                       "4 hidden layers: sigmoid+book against relu+he, residual and tanh+xavier"),
    "batchnorm": Preset(("auto-30-30-30-30-10", "auto-30-30-30-30-10:batchnorm"),
                        "4 hidden sigmoid layers without and with batch norm: s_l barely moves, ‖∂C/∂W‖ (key w) does"),
    # The chain explodes at w = 100 (each factor w σ'(z) = 25) only while its z stay near 0, a window
    # of a ± 0.02 (core/lab/chain.growth_range): at the book's η = 0.1 the first step pushes them out
    # and every s_l underflows at epoch 1. At η = 0.01 (seed 0) it explodes for 90 epochs, then
    # saturates; 150 epochs keep both on screen. A 30-wide layer with every weight 100 is out of that
    # window from the start (s_l ≈ 0 at epoch 0), so the preset keeps to the chain.
    "exploding": Preset(("auto-1-1-1-1-10", "auto-1-1-1-1-10:explode"),
                        "the book's chain, w=1 against w=100, b=-100·a: there each layer multiplies the gradient "
                        "by 25 until the neurons saturate",
                        {"eta": 0.01, "epochs": 150, "explode_w": 100.0}),
}
DEFAULT_PRESET = "book"


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}" + did_you_mean(name, PRESETS))
    return PRESETS[name]


def preset_nets(name: str) -> tuple[str, ...]:
    return preset(name).nets
