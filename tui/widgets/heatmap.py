"""Every layer of a deep model in one view: a layer × time heatmap. One row per layer (or per
folded block), time to the right, colour on the shared scale, the newest value at the end of each
row, and a legend of the colours. Where the rows outnumber the lines, the first and the last row
keep a line of their own and the rows between share the rest evenly, each line combining its
rows as a folded block does (lens.combine); its label says how many it holds.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive

from vgrad.core.view.lens import LENSES, outside_band
from vgrad.core.view.names import block_of, cut_left
from vgrad.core.view.scale import SpeedScale
from vgrad.core.view.series import Series, grouped
from vgrad.core.view.summary import ZERO_FLOOR, number, value_text
from vgrad.tui.widgets.log_sparkline import column_indices
from vgrad.tui.widgets.styled import StyledWidget

# a sequential palette (viridis), dark for slow, bright for fast, that reads on any terminal theme
PALETTE = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58",
           "#b5de2b", "#fde725")
BAD_STYLE, ZERO_STYLE, MARK_STYLE = "bold #e15759", "#7f7f7f", "bold #f28e2b"
VALUE_WIDTH = 9
MARK_WIDTH = 2
CELL = "█"


def line_groups(rows: int, lines: int) -> list[tuple[int, ...]]:
    """Rows 0 … rows-1 in at most `lines` lines: the first and the last alone, the others split
    evenly over the lines between (every row on some line, in order)."""
    if rows <= lines or lines < 3:
        return [(row,) for row in range(rows)]
    middle, inner = rows - 2, lines - 2
    groups = [(0,)]
    for line in range(inner):
        start, stop = 1 + line * middle // inner, 1 + (line + 1) * middle // inner
        groups.append(tuple(range(start, stop)))
    groups.append((rows - 1,))
    return groups


def line_label(names: list[str], width: int) -> str:
    """A line's label: its row's name, or for rows binned together the blocks they span
    (`h.8–h.12`), else the first name and how many more (`wpe +15`)."""
    if len(names) == 1:
        return cut_left(names[0], width)
    first, last = _block(names[0]), _block(names[-1])
    if first and last:
        span = first if first == last else f"{first}–{last.rsplit('.', 1)[-1]}"
        if len(span) <= width:
            return span
    return _and_more(first + "…" if first else names[0], len(names) - 1, width)


def line_labels(groups: list[list[str]], width: int) -> list[str]:
    """Every line's label (line_label); lines that would read alike (two parts of one block,
    `m.l.0` twice) are named by their first row and how many more instead."""
    labels = [line_label(names, width) for names in groups]
    alike = {label for label in labels if labels.count(label) > 1}
    return [_and_more(names[0], len(names) - 1, width) if label in alike and len(names) > 1 else label
            for label, names in zip(labels, groups)]


def _and_more(head: str, more: int, width: int) -> str:
    """`head +more` in `width` columns, the head cut from the left (`wpe +15`)."""
    suffix = f" +{more}"
    return cut_left(head, width - len(suffix)) + suffix


def _block(name: str) -> str | None:
    """The block a row belongs to, or is (a folded row is named `h.3`)."""
    words = name.split(".")
    return block_of(name) or (name if len(words) > 1 and words[-1].isdigit() else None)


def colour(value: float | None, scale: SpeedScale) -> tuple[str, str]:
    """The cell and its style for `value`: a palette colour, · for ≈0, ! for nan/inf, blank if not measured."""
    if value is None:
        return " ", ""
    position = scale.fraction(value)
    if position is None:
        return "!", BAD_STYLE
    if scale.log and value < ZERO_FLOOR:
        return "·", ZERO_STYLE
    return CELL, PALETTE[min(len(PALETTE) - 1, int(position * len(PALETTE)))]


def legend(scale: SpeedScale, width: int) -> list[tuple[str, str]]:
    """`1.00e-05 ██████████ 1.00`: the palette between the scale's ends."""
    low, high = ("0%", "100%") if scale.percent else (
        (number(10 ** scale.lo), number(10 ** scale.hi)) if scale.log else ("0", number(scale.hi)))
    parts: list[tuple[str, str]] = [(f"{low} ", "")]
    parts += [(CELL, shade) for shade in PALETTE]
    parts.append((f" {high}" + (" · ≈0  ! nan/inf" if width >= 40 and scale.log else ""), ""))
    return parts


def merged(parts: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Neighbouring parts of one style as one, so a line renders as a few runs."""
    out: list[tuple[str, str]] = []
    for text, style in parts:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return tuple(out)


class Heatmap(StyledWidget):
    """Rows × time of a Series (already folded and smoothed) on a shared scale, as many lines high
    as `lines` allows; the app sets `lines` from the room the layout leaves."""

    DEFAULT_CSS = """
    Heatmap {
        height: auto;
        color: $text-muted;
    }
    """

    lines: reactive[int] = reactive(30, layout=True)
    drawing: reactive[tuple] = reactive(())

    def __init__(self, name_width: int = 15, **options) -> None:
        super().__init__(**options)
        self.name_width = name_width
        self.unit = "step"
        self._source: tuple[Series | None, int | None, SpeedScale | None] = (None, None, None)

    def show(self, data: Series, steps: int | None, scale: SpeedScale, unit: str = "step") -> None:
        """Draw `data` on `scale`, the width standing for the run's `steps` (counted in `unit`s:
        "epoch" where a record is an epoch, as in the speed experiment)."""
        self.unit = unit
        self._source = (data, steps, scale)
        self.drawing = self._draw(self.size.width)

    def on_resize(self) -> None:
        self.drawing = self._draw(self.size.width)

    def watch_lines(self) -> None:
        self.drawing = self._draw(self.size.width)

    def get_content_height(self, container, viewport, width: int) -> int:
        data = self._source[0]
        rows = 0 if data is None else data.rows
        return 2 + min(rows, max(3, self.lines))

    def _draw(self, width: int) -> tuple:
        data, steps, scale = self._source
        if data is None or scale is None or width <= 0:
            return ()
        groups = line_groups(data.rows, max(3, self.lines))
        shown = grouped(data, [(data.names[members[0]], members) for members in groups])
        cells = max(1, width - self.name_width - VALUE_WIDTH - MARK_WIDTH)
        columns = column_indices(shown.steps, cells, steps)
        lines: list[list[tuple[str, str]]] = [legend(scale, width)]
        latest = shown.latest()
        labels = line_labels([[data.names[row] for row in members] for members in groups], self.name_width - 1)
        for line, label in enumerate(labels):
            parts: list[tuple[str, str]] = [(label.ljust(self.name_width), "")]
            parts += [colour(shown.value(t, line), scale) for t in columns]
            parts.append((" " * (cells - len(columns)), ""))
            value = latest[line]
            parts.append((value_text(value, data.lens).rjust(VALUE_WIDTH), ""))
            mark = ""
            band = LENSES[data.lens].band
            if band is not None and outside_band(value, data.lens):
                mark = " ↓" if value is not None and value < band[0] else " ↑"
            parts.append((mark.ljust(MARK_WIDTH), MARK_STYLE))
            lines.append(parts)
        first, last = (int(shown.steps[0]), steps or int(shown.steps[-1])) if len(shown.steps) else (0, 0)
        axis_left, axis_right = f"{self.unit} {first}", f"{self.unit} {last}"
        if cells < len(axis_left) + len(axis_right) + 1:
            axis_left = ""
        lines.append([(" " * self.name_width + axis_left + axis_right.rjust(max(0, cells - len(axis_left))), "")])
        return tuple(merged(line) for line in lines)

    def render(self) -> Content:
        parts: list = []
        for index, line in enumerate(self.drawing):
            if index:
                parts.append("\n")
            for text, style in line:
                parts.append((text, style) if style else text)
        return Content.assemble(*parts)
