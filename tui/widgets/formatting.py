"""Dashboard-only number formats; s_l, cost and accuracy use vgrad.core.view.summary's, as the
headless table and the plot do."""

from __future__ import annotations

import math

from vgrad.core.view.summary import UNDEFINED, is_near_zero


def gain(later: float | None, earlier: float | None) -> str:
    """The factor s_{l+1}/s_l as "×4.9", "×12" or "×0.74"; "—" where it means nothing (not
    measured, nan/inf, or s_l ≈ 0: under 1e-12 a ratio of two underflows)."""
    if later is None or earlier is None:
        return UNDEFINED
    if not (math.isfinite(later) and math.isfinite(earlier)) or earlier <= 0 or is_near_zero(earlier):
        return UNDEFINED
    ratio = later / earlier
    if ratio >= 100 or ratio < 0.01:
        return f"×{ratio:.0e}".replace("e+0", "e").replace("e-0", "e-")
    if ratio >= 10:
        return f"×{ratio:.0f}"
    return f"×{ratio:.1f}" if ratio >= 1 else f"×{ratio:.2f}"
