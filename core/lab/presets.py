"""Named sets of nets: the book's experiment and the remedies to compare with it."""

from __future__ import annotations

from vgrad.core.errors import InputError, did_you_mean

PRESETS: dict[str, tuple[tuple[str, ...], str]] = {
    "book": (("auto-30-30-10", "auto-30-30-30-10", "auto-30-30-30-30-10"),
             "the book's three sigmoid nets: the first layer learns ~100x slower than the last"),
    "remedies": (("auto-30-30-30-30-10", "auto-30-30-30-30-10:relu:he",
                  "auto-30-30-30-30-10:residual", "auto-30-30-30-30-10:tanh:xavier"),
                 "4 hidden layers: sigmoid+book against relu+he, residual and tanh+xavier"),
    "batchnorm": (("auto-30-30-30-30-10", "auto-30-30-30-30-10:batchnorm"),
                  "4 hidden sigmoid layers without and with batch norm: s_l barely moves, ‖∂C/∂W‖ (key w) does"),
    "exploding": (("auto-1-1-1-1-10", "auto-1-1-1-1-10:explode", "auto-30-30-30-30-10:explode"),
                  "the book's chain with w=100, b=-100·a: each layer multiplies the gradient by 25"),
}
DEFAULT_PRESET = "book"


def preset_nets(name: str) -> tuple[str, ...]:
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}" + did_you_mean(name, PRESETS))
    return PRESETS[name][0]
