"""One renderer for the bench: the terminal (rich) and the README (markdown) show the same cells."""

import io

from rich.console import Console

from vgrad.bench.readme_table import tables
from vgrad.bench.report import report, target_cells
from vgrad.bench.run import run_bench
from vgrad.tui.tables.bench import bench_tables


def rich_text(result):
    """What the terminal shows, without spaces and line breaks (rich wraps a title to its table)."""
    console = Console(file=io.StringIO(), width=250, color_system=None)
    console.print(*bench_tables(result))
    return "".join(console.file.getvalue().split())


def test_terminal_and_markdown_show_every_cell_of_the_report(mnist, stubbed_bench):
    result = run_bench(mnist)
    terminal, markdown = rich_text(result), tables(result)
    for part in report(result):
        cells = [part] if isinstance(part, str) else [part.title, *(c for row in part.rows for c in row if c)]
        for cell in cells:
            assert cell in markdown, cell
            assert "".join(cell.split()) in terminal, cell


def test_a_target_reads_measured_needed_and_verdict(mnist, stubbed_bench):
    stubbed_bench["cold_compile_s"] = 16.0
    result = run_bench(mnist)
    rows = {t["key"]: target_cells(t) for t in result["targets"]}
    assert rows["cold_compile"][1:4] == ("16.00 s", "≤ 15 s", "FAIL")
    assert rows["numpy_batch10"][1:4] == ("5.00×", "≥ 1.8×", "PASS")
    assert rows["matmul_share"][1:4] == ("120.0 %", "≥ 70 %", "PASS")
    assert "| cold compile ≤ 15 s (behind a spinner) | 16.00 s | ≤ 15 s | FAIL |" in tables(result)


def test_a_quick_run_shows_the_extrapolated_column(mnist, stubbed_bench):
    result = run_bench(mnist, quick=True)
    experiment = report(result)[3]
    assert experiment.header[-1] == "× 20 (500 epochs)"
    assert experiment.rows[1][1:] == ("1.30", "26.00")
    assert "QUICK run" in report(result)[0]


def test_the_tables_are_written_between_the_markers_and_nothing_else_changes():
    """docs/performance.md keeps its prose; only the text between the bench markers is the bench's."""
    from vgrad.bench.readme_table import BEGIN, END, replace_between_markers

    document = f"intro\n{BEGIN}\nold tables\n{END}\noutro\n"
    assert replace_between_markers(document, "| new |") == f"intro\n{BEGIN}\n| new |\n{END}\noutro\n"


def test_the_performance_page_has_the_markers_the_bench_writes_between():
    from pathlib import Path

    from vgrad.bench.readme_table import BEGIN, END

    page = (Path(__file__).parents[2] / "docs" / "performance.md").read_text(encoding="utf-8")
    assert page.index(BEGIN) < page.index(END)
