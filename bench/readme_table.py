"""Print the README's Performance tables (markdown) from `vgrad-tui bench --json` output.

    vgrad-tui bench --json > bench.json && python bench/readme_table.py bench.json

The tables are bench/report.py's, the same as `vgrad-tui bench` prints.
"""

from __future__ import annotations

import json
import sys

from vgrad.bench.report import Table, report


def markdown_table(table: Table) -> str:
    """A title line, the grid as a markdown table, and the caption below it."""
    def line(cells) -> str:
        return "| " + " | ".join(str(cell).replace("\n", " ").replace("|", "\\|") for cell in cells) + " |"

    lines = [f"**{table.title}**", "", line(table.header),
             "|" + "|".join("---:" if a == "r" else "---" for a in table.alignment()) + "|"]
    lines += [line(row) for row in table.rows]
    if table.caption:
        lines += ["", table.caption]
    return "\n".join(lines)


def tables(result: dict) -> str:
    """The whole report as markdown."""
    return "\n\n".join(part if isinstance(part, str) else markdown_table(part) for part in report(result))


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print(tables(json.load(handle)))
