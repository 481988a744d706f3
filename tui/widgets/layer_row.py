"""One hidden layer l of one net: `h1 ▁▂▃▄ 0.00279 ×4.9`, its name, its sparkline through the
lens on the shared scale, the value now, and the gain s_{l+1}/s_l to the next layer (the update
ratio lens marks instead a layer outside its healthy band: ↓ barely moves, ↑ thrashes). A sparkline several rows
high sits on a shaded track, its name and numbers on its bottom row, where its bars stand.

One widget, not a row of four: the dashboard repaints these at 15 Hz, and every extra
widget and container in a dirty region costs a render.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive

from vgrad.core.view.lens import LENSES, outside_band
from vgrad.core.view.names import NAME_LIMIT, cut_left
from vgrad.core.view.scale import SpeedScale
from vgrad.core.view.series import Series
from vgrad.core.view.summary import value_text
from vgrad.tui.widgets.formatting import gain
from vgrad.tui.widgets.log_sparkline import COMPONENTS, levels, row_runs
from vgrad.tui.widgets.styled import StyledWidget

NAME_WIDTH = 3          # "h1 ": a built-in net's row names
MAX_NAME_WIDTH = NAME_LIMIT + 1   # a watched model's names, shortened by core.view.names
SPEED_WIDTH = 9
GAIN_WIDTH = 9
NO_GAIN = ""        # the last layer has no next layer to compare with


class LayerRow(StyledWidget):
    """Hidden layer `layer` (0-based); as many rows high as CSS makes it, 8 levels a row."""

    DEFAULT_CSS = """
    LayerRow > .layer-row--name, LayerRow > .layer-row--gain {
        color: $text-muted;
    }
    LayerRow > .log-sparkline--bar {
        color: $accent;
        background: $surface;
    }
    LayerRow > .log-sparkline--bad {
        color: $error;
        background: $surface;
        text-style: bold;
    }
    LayerRow > .log-sparkline--zero {
        color: $text-muted;
        background: $surface;
    }
    LayerRow > .layer-row--track {
        background: $surface;
    }
    """

    COMPONENT_CLASSES = COMPONENTS | {"layer-row--name", "layer-row--gain", "layer-row--track"}

    cells: reactive[tuple[int, ...]] = reactive(())
    speed: reactive[str] = reactive("")
    gain: reactive[str] = reactive("")

    def __init__(self, layer: int, name: str | None = None, name_width: int = NAME_WIDTH, **options) -> None:
        super().__init__(**options)
        self.layer_index = layer
        self.name_text = name or f"h{layer + 1}"
        self.name_width = name_width
        self.label = cut_left(name or f"h{layer + 1}", name_width - 1).ljust(name_width)
        self.scale = SpeedScale(-5.0, 0.0)
        self._source: tuple[Series | None, int | None] = (None, None)

    @property
    def sparkline_width(self) -> int:
        return max(0, self.size.width - self.name_width - SPEED_WIDTH - GAIN_WIDTH)

    def show(self, data: Series, steps: int | None, scale: SpeedScale) -> None:
        """Draw this row of `data` on `scale`, the width standing for the run's `steps`; read the
        value and the gain off the newest record. Repaints only if something visible changed."""
        self._source = (data, steps)
        self.scale = scale
        self._measure()
        speed, gain_text = "", ""
        if len(data.steps):
            values = data.latest()
            value = values[self.layer_index]
            speed = value_text(value, data.lens)
            last = self.layer_index + 1 >= len(values)
            if LENSES[data.lens].band is not None:
                gain_text = "" if not outside_band(value, data.lens) else (
                    "↓ slow" if value is not None and value < LENSES[data.lens].band[0] else "↑ fast")
            elif not LENSES[data.lens].fraction:
                gain_text = NO_GAIN if last else gain(values[self.layer_index + 1], value)
        self.speed = speed
        self.gain = gain_text

    def on_resize(self) -> None:
        self._measure()

    def _measure(self) -> None:
        data, steps = self._source
        if data is None:
            self.cells = ()
            return
        self.cells = levels(data, self.layer_index, self.sparkline_width, max(1, self.size.height),
                            steps, self.scale)

    def render(self) -> Content:
        height = max(1, self.size.height)
        bottom = height - 1
        pad = self.sparkline_width
        parts: list = []
        for row in range(height):
            if row:
                parts.append("\n")
            runs = row_runs(self.cells, row, height)
            drawn = sum(len(text) for text, _ in runs)
            label = row == bottom
            parts.append((self.label if label else " " * self.name_width,
                          self.component_style("layer-row--name")))
            parts.extend((text, self.component_style(component)) for text, component in runs)
            parts.append((" " * max(0, pad - drawn), self.component_style("layer-row--track")))
            if label:
                parts.append(self.speed.rjust(SPEED_WIDTH))
                parts.append((self.gain.rjust(GAIN_WIDTH), self.component_style("layer-row--gain")))
        return Content.assemble(*parts)


def name_width(names) -> int:
    """Columns for a panel's row names: NAME_WIDTH for h1 … h8, up to MAX_NAME_WIDTH for watched models."""
    return max(NAME_WIDTH, min(MAX_NAME_WIDTH, 1 + max((len(name) for name in names), default=0)))
