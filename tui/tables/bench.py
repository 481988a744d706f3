"""`vgrad-tui bench`'s output drawn with rich: the report's tables (vgrad.bench.report)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from vgrad.bench import report

VERDICT_STYLES = {"PASS": "green", "FAIL": "red", "skipped": "dim"}


def _rich(table: report.Table) -> Table:
    out = Table(title=table.title, title_justify="left", caption=table.caption or None)
    for index, (name, align) in enumerate(zip(table.header, table.alignment())):
        out.add_column(name, justify="right" if align == "r" else "left",
                       style="dim" if index == table.quiet_column else None)
    for index, row in enumerate(table.rows):
        cells: list[str | Text] = list(row)
        if table.verdict_column is not None:
            verdict = row[table.verdict_column]
            cells[table.verdict_column] = Text(verdict, style=VERDICT_STYLES.get(verdict, ""))
        out.add_row(*cells, style="bold" if index in table.strong_rows else None,
                    end_section=index in table.rule_after)
    return out


def bench_tables(result: dict) -> list:
    """Everything `vgrad-tui bench` prints, top to bottom."""
    return [Text(part, style="dim") if isinstance(part, str) else _rich(part) for part in report.report(result)]
