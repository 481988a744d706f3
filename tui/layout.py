"""Where the panels go: how many columns, whether each panel is wide enough for its neuron bars
beside its layer rows, how tall the sparklines are, and whether the header fits. A pure choice
from the terminal's size and the nets' specs, so it is tested without an app."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from vgrad.core.subject import Subject
from vgrad.tui.widgets.net_panel import NetPanel

Spec = Subject
MIN_HEAT_ROWS = 3             # a heatmap's first, middle and last layers
PANEL_MIN_WIDTH = 33          # side by side only while every panel gets this many columns
WIDE_PANEL = 80               # a panel this wide puts its neuron bars beside its layer rows
SPARK_ROWS = (6, 5, 4, 3, 2, 1)   # sparkline heights tried, tallest first: the panels fill the height they have
ENOUGH_ROWS = 4               # arrangements compare by sparkline height up to this; taller only fills the room
LEGEND_ROWS, FOOTER_ROWS, HEADER_ROWS = 1, 1, 1
PANEL_FRAME = 4               # a panel's border and padding, in columns


@dataclass(frozen=True)
class Layout:
    columns: int
    wide: bool                # neuron bars beside the layer rows
    spark_rows: int           # rows per sparkline; 0: one row and no neuron bars
    header: bool              # the title bar fits too
    heat_rows: int = 0        # lines a heatmap may draw (its layers binned to fit)


def note_rows(note: str, panel_width: int) -> int:
    """Rows the lines under a status take (its reason, its note: one part a line), wrapped as
    StatusLine wraps them."""
    return sum(len(textwrap.wrap(part, max(8, panel_width - PANEL_FRAME))) for part in note.split("\n") if part)


def rows_needed(specs: tuple[Spec, ...], columns: int, wide: bool, spark_rows: int,
                notes: tuple[str, ...] = (), width: int = 0, heat: tuple[int, ...] = (), heat_rows: int = 0) -> int:
    """Terminal rows the panels take in `columns` columns of a `width`-wide terminal (a row is as
    tall as its tallest panel), each with its status note (sgd: why it stalls) wrapped under it;
    a panel with heat[i] > 0 is a heatmap of at most `heat_rows` lines."""
    heights = [NetPanel.rows_needed(spec, wide=wide, neurons=spark_rows > 0, spark_rows=max(1, spark_rows),
                                    heat_rows=heat_rows if i < len(heat) and heat[i] else 0,
                                    width=width // columns if width else 0)
               + note_rows(notes[i] if i < len(notes) else "", width // columns)
               for i, spec in enumerate(specs)]
    return sum(max(heights[row:row + columns]) for row in range(0, len(specs), columns))


def choose_layout(specs: tuple[Spec, ...], width: int, height: int, notices: int = 0,
                  notes: tuple[str, ...] = (), heat: tuple[int, ...] = ()) -> Layout:
    """The arrangement with the tallest sparklines that fit (neuron bars included; heights over
    ENOUGH_ROWS count as a tie), among: all side by side, four in a 2x2 grid, stacked. On a tie
    four nets take the grid (wider panels, bars beside), else the most columns; the sparklines
    then grow to fill the rows the arrangement leaves. The header goes first when rows are short. Heatmap
    panels (heat[i] > 0 layers) take the lines left, at least MIN_HEAT_ROWS."""
    if any(heat):
        return _heat_layout(specs, width, height, notices, notes, heat)
    count = len(specs)
    candidates = [count] if width >= PANEL_MIN_WIDTH * count else []
    if count == 4 and width >= 2 * PANEL_MIN_WIDTH:
        candidates.insert(0, 2)
    candidates.append(1)
    best: Layout | None = None
    for header in (True, False):
        room = height - LEGEND_ROWS - FOOTER_ROWS - notices - (HEADER_ROWS if header else 0)
        for columns in dict.fromkeys(candidates):
            wide = columns == 1 or width // columns >= WIDE_PANEL
            needs = {rows: rows_needed(specs, columns, wide, rows, notes, width) for rows in (*SPARK_ROWS, 0)}
            spark = next((rows for rows in SPARK_ROWS if needs[rows] <= room), None)
            if spark is None and needs[0] <= room:
                spark = 0
            if spark is not None and (best is None or min(spark, ENOUGH_ROWS) > min(best.spark_rows, ENOUGH_ROWS)):
                best = Layout(columns, wide, spark, header)
        if best is not None:
            return best
    columns = candidates[-1]
    return Layout(columns, True, 0, False)   # nothing fits: stacked, compact, scrolled


def _heat_layout(specs: tuple[Spec, ...], width: int, height: int, notices: int, notes: tuple[str, ...],
                 heat: tuple[int, ...]) -> Layout:
    """With a heatmap: side by side if each panel gets PANEL_MIN_WIDTH, else stacked; sparkline
    panels beside it as tall as fit, and the heatmap as many lines as are left."""
    count = len(specs)
    candidates = ([count] if width >= PANEL_MIN_WIDTH * count else []) + [1]
    deepest = max(heat)
    for header in (True, False):
        room = height - LEGEND_ROWS - FOOTER_ROWS - notices - (HEADER_ROWS if header else 0)
        for columns in dict.fromkeys(candidates):
            wide = columns == 1 or width // columns >= WIDE_PANEL
            for spark in (*SPARK_ROWS, 0):
                lines = deepest
                while lines >= MIN_HEAT_ROWS:
                    needs = rows_needed(specs, columns, wide, spark, notes, width, heat, lines)
                    if needs <= room:
                        return Layout(columns, wide, spark, header, lines)
                    lines -= max(1, needs - room) if columns == 1 else needs - room
    return Layout(candidates[-1], True, 0, False, MIN_HEAT_ROWS)
