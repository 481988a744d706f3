"""Number formatting for the dashboard: s_l in scientific notation, gains, costs; nan/inf as words."""

from __future__ import annotations

import math


NONE = "—"   # not measured (a watched layer without a bias gradient)


def sci(value: float | None, digits: int = 2) -> str:
    """2.79e-03; "nan", "inf" or "0" where the exponent would mean nothing; "—" for None."""
    if value is None:
        return NONE
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    return f"{value:.{digits}e}"


def gain(later: float | None, earlier: float | None) -> str:
    """The factor s_{l+1}/s_l as "×4.9", "×12" or "×0.74", or "×?" when it is undefined."""
    if later is None or earlier is None:
        return NONE
    if not (math.isfinite(later) and math.isfinite(earlier)) or earlier <= 0:
        return "×?"
    ratio = later / earlier
    if ratio >= 100 or ratio < 0.01:
        return f"×{ratio:.0e}".replace("e+0", "e").replace("e-0", "e-")
    if ratio >= 10:
        return f"×{ratio:.0f}"
    return f"×{ratio:.1f}" if ratio >= 1 else f"×{ratio:.2f}"


def short(value: float | None) -> str:
    """A cost to four significant digits, e.g. 3.411 or 5.47e+22; "—" for None."""
    if value is None:
        return NONE
    return "nan" if math.isnan(value) else f"{value:.4g}"
