"""The legend of the shared sparkline scale, the replay speed and pause, and run-wide notices."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive

from vgrad.core.view.lens import LENSES, UPDATE
from vgrad.core.view.scale import SpeedScale
from vgrad.tui.widgets.styled import StyledWidget

LEAD = "{} of every net on one "
GAIN_HINT = "   ×g: s_{l+1}/s_l"
LENS_GAIN_HINT = "   ×g: layer l+1 over layer l"


class ScaleLegend(StyledWidget):
    """`s_l of every net on one log scale ▁ 2.98e-05 … █ 3.35e-01 …`, the mode on the right,
    then one line per notice."""

    DEFAULT_CSS = """
    ScaleLegend {
        color: $text-muted;
    }
    ScaleLegend > .scale-legend--mode {
        color: $warning;
        text-style: bold;
    }
    ScaleLegend > .scale-legend--notice {
        color: $warning;
    }
    """

    COMPONENT_CLASSES = {"scale-legend--notice", "scale-legend--mode"}

    scale: reactive[SpeedScale | None] = reactive(None)
    symbol: reactive[str] = reactive("s_l")   # what the bars are: s_l, or ‖∂C/∂W‖ through the weight lens
    mode: reactive[str] = reactive("")
    smoothed: reactive[int] = reactive(0)     # N of the moving average shown, 0: raw values
    notices: reactive[tuple[str, ...]] = reactive((), layout=True)

    def render(self) -> Content:
        width = self.size.width
        main, detail = ("", "") if self.scale is None else self.scale.legend
        room = width - len(self.mode) - 2 if self.mode else width
        bars = main.partition(" scale ")[2]
        lead = LEAD.format(self.symbol + (f" (EMA over {self.smoothed} records)" if self.smoothed else ""))
        hint = GAIN_HINT if self.symbol == "s_l" else "" if self.scale is not None and (
            self.scale.percent or self.symbol == LENSES[UPDATE].symbol) else LENS_GAIN_HINT
        candidates = (lead + main + detail + hint, lead + main + detail, main + detail, main, bars)
        legend = next((text for text in candidates if len(text) <= room), bars)
        parts: list = [legend[:max(0, room)]]
        if self.mode:
            parts.append(" " * max(2, width - len(legend) - len(self.mode)))
            parts.append((self.mode, self.component_style("scale-legend--mode")))
        for line in self.notices:
            parts.append("\n")
            parts.append((f"⚠ {line}", self.component_style("scale-legend--notice")))
        return Content.assemble(*parts)
