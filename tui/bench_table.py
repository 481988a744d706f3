"""Rich tables for `vgrad-tui bench`: throughput, FLOP rates, the experiment, targets."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

PEER_LABELS = {
    "vgrad": "vgrad (numba engine)",
    "numpy": "numpy, batched",
    "book": "book, per example",
    "torch": "PyTorch CPU",
}
COLUMNS = (("float64", 10), ("float64", 1000), ("float32", 10), ("float32", 1000))


def _verdict(passed: bool | None) -> str:
    if passed is None:
        return "[dim]skipped[/dim]"
    return "[green]PASS[/green]" if passed else "[red]FAIL[/red]"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _rows(result: dict) -> dict:
    return {(row["peer"], row["dtype"], row["batch"]): row for row in result["throughput"]}


def machine_line(result: dict) -> Text:
    m = result["machine"]
    load = result.get("background_load_cores")
    parts = [f"{m['cpu']}, {m['cores']} cores", f"numpy {m['numpy']}", f"numba {m['numba']}",
             "; ".join(m["blas"]) or "BLAS unknown", "AVX-512" if m["avx512"] else "no AVX-512 (BLAS path)",
             f"torch {m['torch']}" if m["torch"] else "torch not installed"]
    line = " · ".join(parts)
    if load is not None:
        line += f" · other processes used {load:.2f} cores during the run"
    if result["quick"]:
        line += " · QUICK run (short timings, extrapolated experiment)"
    return Text(line, style="dim")


def throughput_table(result: dict) -> Table:
    rows = _rows(result)
    table = Table(title=f"Examples per second, forward + backward + update ({result['net']}, 1 thread)",
                  title_justify="left")
    table.add_column("")
    for dtype, batch in COLUMNS:
        table.add_column(f"{dtype}\nbatch {batch}", justify="right")
    for peer, label in PEER_LABELS.items():
        table.add_row(label, *(_rate(rows[(peer, d, b)]["examples_per_second"]) for d, b in COLUMNS),
                      end_section=peer == "torch")
    for peer in ("numpy", "book", "torch"):
        table.add_row(f"vgrad ÷ {peer}", *(_times(result["ratios"][d][str(b)][peer]) for d, b in COLUMNS),
                      style="bold" if peer == "numpy" else None)
    return table


def flops_table(result: dict) -> Table:
    rows = _rows(result)
    table = Table(title="FLOP rates, one thread (matrix products; full batch = 1000 probe images)",
                  title_justify="left")
    table.add_column("")
    table.add_column("float64", justify="right")
    table.add_column("float32", justify="right")
    table.add_row("numpy matmul 1000×1000",
                  *(f"{result['matmul'][d]['gflops']:.1f} GFLOP/s" for d in ("float64", "float32")))
    for peer in ("vgrad", "numpy", "torch"):
        cells = []
        for dtype in ("float64", "float32"):
            row = rows[(peer, dtype, 1000)]
            cells.append("—" if row["gflops_performed"] is None else f"{row['gflops_performed']:.1f} GFLOP/s")
        table.add_row(f"{PEER_LABELS[peer]}, full batch", *cells)
    table.add_row("vgrad's share of matmul",
                  *(f"{result['engine_share_of_matmul'][d]:.1%}" for d in ("float64", "float32")))
    note = rows[("vgrad", "float64", 1000)]["note"]
    if note:
        table.caption = f"vgrad full batch {note}: counted as executed."
    return table


def experiment_table(result: dict) -> Table:
    exp, start = result["experiment"], result["startup"]
    scale = exp["scale"]
    title = (f"The default three-net speed experiment ({', '.join(exp['nets'])}; "
             f"{exp['epochs']} full-batch epochs, {exp['gflop']:.0f} GFLOP)")
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column("seconds", justify="right")
    if scale != 1:
        table.add_column(f"× {scale:g} (500 epochs)", justify="right")

    def row(label, seconds, scalable=True):
        cells = [f"{seconds:.2f}"]
        if scale != 1:
            cells.append(f"{seconds * scale:.2f}" if scalable else "")
        table.add_row(label, *cells)

    row("vgrad, one worker thread (nets one after another)", exp["engine_1_thread_s"])
    row("vgrad, 2 cores (one thread per net, as the app runs)", exp["engine_2_cores_s"])
    row("batched numpy, 2 cores (one thread per net)", exp["numpy_2_cores_s"])
    row(f"{exp['command']} (start-up + compute, warm cache)", exp["command_s"], scalable=False)
    row("numba cold compile, fresh cache (float64)", start["cold_compile_s"], scalable=False)
    row("warm start to first step", start["warm_first_step_s"], scalable=False)
    table.caption = (f"2 cores vs one thread: {exp['speedup_2_cores']:.2f}×; "
                     f"two nets on two threads vs one net on one: {exp['two_thread_scaling']:.2f}×")
    return table


def targets_table(result: dict) -> Table:
    table = Table(title="Targets", title_justify="left")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("needed", justify="right")
    table.add_column("")
    table.add_column("note", style="dim")
    for target in result["targets"]:
        unit, measured = target["unit"].replace("x", "×"), target["measured"]
        sign = "≥" if target["higher_is_better"] else "≤"
        shown = "—" if measured is None else (f"{measured:.2f}{unit}" if unit != "%" else f"{measured:.1f} %")
        needed = f"{sign} {target['threshold']:g}{unit}" if unit != "%" else f"{sign} {target['threshold']:g} %"
        table.add_row(target["text"], shown, needed, _verdict(target["passed"]), target["note"])
    return table


def bench_tables(result: dict) -> list:
    """Everything `vgrad-tui bench` prints, top to bottom."""
    return [machine_line(result), throughput_table(result), flops_table(result), experiment_table(result),
            targets_table(result)]
