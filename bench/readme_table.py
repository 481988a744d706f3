"""The Performance tables (markdown) from `vgrad-tui bench --json` output, printed or written
into docs/performance.md between its BEGIN and END markers (the rest of the file is kept):

    vgrad-tui bench --json > bench.json && python -m vgrad.bench.readme_table bench.json --into docs/performance.md

The tables are bench/report.py's, the same as `vgrad-tui bench` prints.
"""

from __future__ import annotations

import json
import os
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


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def replace_between_markers(document: str, generated: str) -> str:
    """`document` with the text between BEGIN and END replaced by `generated`; ValueError without them."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN} … {END} markers to write between")
    return document[:start + len(BEGIN)] + "\n" + generated.strip() + "\n" + document[end:]


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--into"):
        print("usage: python -m vgrad.bench.readme_table BENCH.json [--into DOC.md]", file=sys.stderr)
        return 2
    with open(argv[0]) as handle:
        generated = tables(json.load(handle))
    if len(argv) == 1:
        print(generated)
        return 0
    with open(argv[2], encoding="utf-8") as handle:
        document = handle.read()
    updated = replace_between_markers(document, generated)
    temporary = argv[2] + ".new"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(updated)
    os.replace(temporary, argv[2])   # the old document stays whole until the new one is
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
