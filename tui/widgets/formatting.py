"""Dashboard-only number formats; s_l, cost and accuracy use vgrad.core.view.summary's, as the
headless table and the plot do."""

from __future__ import annotations

import math

from vgrad.core.view.summary import UNDEFINED, factor, is_near_zero


def gain(later: float | None, earlier: float | None) -> str:
    """The factor s_{l+1}/s_l as "×4.9", "×124", "×1.4e5" (the headline's format), "×0.74" or
    "×1/250"; "—" where it means nothing (not
    measured, nan/inf, or s_l ≈ 0: under 1e-12 a ratio of two underflows)."""
    if later is None or earlier is None:
        return UNDEFINED
    if not (math.isfinite(later) and math.isfinite(earlier)) or earlier <= 0 or is_near_zero(earlier):
        return UNDEFINED
    ratio = later / earlier
    if ratio >= 1:
        return f"×{factor(ratio)}"
    if ratio == 0:
        return "×0"
    return f"×{ratio:.2f}" if ratio >= 0.01 else f"×1/{factor(1 / ratio)}"
