"""`vgrad-tui bench`'s output drawn with rich: the report's tables (vgrad.bench.report).

A table is drawn as a grid only where every cell fits on one line at the console's width (80
columns when piped); otherwise each row becomes a block, its first cell on a line and then its
`header: cell` pairs, so no row is wrapped and no header is cut to `experime…`.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text

from vgrad.bench import report

VERDICT_STYLES = {"PASS": "green", "FAIL": "red", "skipped": "dim"}
INDENT = "  "


def natural_width(table: report.Table) -> int:
    """The width of `table` drawn as a rich grid with no cell wrapped: each column as wide as its
    widest line, a space either side, and a rule between columns and at both edges."""
    widths = [max((cell_len(line) for line in name.split("\n")), default=0) for name in table.header]
    for row in table.rows:
        widths = [max(width, cell_len(cell)) for width, cell in zip(widths, row)]
    return sum(widths) + 3 * len(widths) + 1


def _cell(table: report.Table, row: tuple[str, ...], index: int) -> str | Text:
    if index == table.verdict_column:
        return Text(row[index], style=VERDICT_STYLES.get(row[index], ""))
    return row[index]


def _grid(table: report.Table) -> Table:
    out = Table(title=table.title, title_justify="left", caption=table.caption or None)
    for index, (name, align) in enumerate(zip(table.header, table.alignment())):
        out.add_column(name, justify="right" if align == "r" else "left", no_wrap=True,
                       style="dim" if index == table.quiet_column else None)
    for index, row in enumerate(table.rows):
        out.add_row(*(_cell(table, row, column) for column in range(len(row))),
                    style="bold" if index in table.strong_rows else None, end_section=index in table.rule_after)
    return out


def _blocks(table: report.Table, width: int) -> Group:
    """Each row as its first cell, then its other cells as `header: cell` (a cell under an empty
    header, such as a verdict, alone) on one indented line if that fits, else a line each; a
    note (the quiet column) dim on its own line."""
    lines: list[Text] = [Text(table.title, style="bold")]
    for index, row in enumerate(table.rows):
        lines.append(Text(row[0], style="bold" if index in table.strong_rows else ""))
        parts = []
        for column in range(1, len(row)):
            if row[column] and column != table.quiet_column:
                name = " ".join(table.header[column].split())
                parts.append(Text(f"{name}: " if name else "").append_text(_as_text(_cell(table, row, column))))
        joined = Text(INDENT).append_text(Text(" · ").join(parts))
        lines.extend([joined] if joined.cell_len <= width else [Text(INDENT).append_text(part) for part in parts])
        if table.quiet_column is not None and row[table.quiet_column]:
            lines.append(Text(INDENT + row[table.quiet_column], style="dim"))
    if table.caption:
        lines.append(Text(table.caption, style="dim"))
    return Group(*lines)


def _as_text(cell: str | Text) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def bench_tables(result: dict, width: int | None = None) -> list:
    """Everything `vgrad-tui bench` prints, top to bottom, for a console `width` wide (None: grids)."""
    out: list = []
    for part in report.report(result):
        if isinstance(part, str):
            out.append(Text(part, style="dim"))
        elif width is None or natural_width(part) <= width:
            out.append(_grid(part))
        else:
            out.append(_blocks(part, width))
    return out
