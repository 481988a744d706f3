"""Rich tables for `vgrad-tui reproduce`: the book's numbers next to ours."""

from __future__ import annotations

from rich.table import Table

from vgrad.core.lab.book import ADJACENT_RATIO


def _verdict(passed: bool) -> str:
    return "[green]PASS[/green]" if passed else "[red]FAIL[/red]"


def reproduce_tables(results) -> list[Table]:
    tables = []
    for result in results:
        table = Table(title=f"{result.spec}: s_l at initialisation over {result.seeds} seeds",
                      title_justify="left")
        for column in ("layer", "book", "ours: median [p5, p95]", "reference band", ""):
            table.add_column(column, justify="right")
        for layer in result.layers:
            band = layer.band
            table.add_row(f"h{layer.layer}", f"{layer.book:.3g}",
                          f"{layer.median:.3g} [{layer.p5:.3g}, {layer.p95:.3g}]",
                          f"{band.median:.3g} [{band.low:.3g}, {band.high:.3g}]", _verdict(layer.passed))
        table.add_row("gain", f"≈{ADJACENT_RATIO.median:g}", f"{result.adjacent_ratio:.2f}",
                      f"[{ADJACENT_RATIO.low:g}, {ADJACENT_RATIO.high:g}]", _verdict(result.ratio_passed),
                      end_section=True)
        if result.epochs:
            finals = ", ".join(f"{v:.2g}" for v in result.final_speeds)
            table.add_row(f"epoch {result.epochs - 1} (book's last)", "", finals,
                          f"earlier slower: {result.ordered_seeds}/{result.seeds} seeds",
                          _verdict(result.ordering_passed))
        tables.append(table)
    return tables


def accuracy_table(runs, data_name: str, train: int, validation: int) -> Table:
    """Validation accuracy per epoch, one column per net, the book's figure in the last row."""
    table = Table(title=f"validation accuracy (%) on {data_name}: trained on the first {train:,} images, "
                        f"measured on the last {validation:,}", title_justify="left")
    table.add_column("epoch", justify="right")
    for run in runs:
        table.add_column(run.spec, justify="right")
    for epoch in range(max((len(run.per_epoch) for run in runs), default=0)):
        table.add_row(str(epoch + 1), *(f"{run.per_epoch[epoch]:.2f}" if epoch < len(run.per_epoch) else ""
                                        for run in runs))
    table.add_row("book (30)", *(f"{run.book:.2f}" for run in runs), style="bold", end_section=True)
    if any(run.error for run in runs):
        table.add_row("error", *(run.error for run in runs), style="red")
    return table
