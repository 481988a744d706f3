"""The one renderer of a bench result: its tables as plain text cells.

`vgrad-tui bench` draws them with rich (tui/tables/bench.py) and bench/readme_table.py
writes them as markdown for the README, so both always show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from vgrad.bench.measures.paths import paths_cells
from vgrad.bench.problem import BATCHES, EXPERIMENT_EPOCHS
from vgrad.core.config import DTYPES
from vgrad.core.view.summary import UNDEFINED, accuracy_text

PEER_LABELS = {
    "vgrad": "vgrad (numba engine)",
    "numpy": "numpy, batched",
    "book": "book, per example",
    "torch": "PyTorch CPU",
}
COLUMNS = tuple((dtype, batch) for dtype in DTYPES for batch in BATCHES)
VERDICTS = {True: "PASS", False: "FAIL", None: "skipped"}
UNITS = {"x": "×", "%": " %", "s": " s"}
# the engine skips the zero pixels but is credited the net's nominal FLOPs, as every peer is: it can pass 100 %
SHARE_LABEL = "vgrad ÷ matmul, net's FLOPs (zero pixels skipped)"


@dataclass(frozen=True)
class Table:
    """A titled grid of text cells; a header cell's "\\n" breaks a line where the renderer can."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    align: str = ""                   # one of "l"/"r" per column; default: first left, the rest right
    strong_rows: frozenset[int] = frozenset()
    rule_after: frozenset[int] = frozenset()   # a section line below these rows
    verdict_column: int | None = None          # holds VERDICTS' words
    quiet_column: int | None = None            # notes, drawn dim

    def alignment(self) -> str:
        return self.align or "l" + "r" * (len(self.header) - 1)


def _rate(value: float | None) -> str:
    return UNDEFINED if value is None else f"{value:,.0f}"


def _times(value: float | None) -> str:
    return UNDEFINED if value is None else f"{value:.2f}×"


def _gflops(value: float | None) -> str:
    return UNDEFINED if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    return accuracy_text(value)


def _rows(result: dict) -> dict:
    return {(row["peer"], row["dtype"], row["batch"]): row for row in result["throughput"]}


def machine_line(result: dict) -> str:
    m = result["machine"]
    load = result.get("background_load_cores")
    parts = [f"{m['cpu']}, {m['cores']} cores", f"numpy {m['numpy']}", f"numba {m['numba']}",
             "; ".join(m["blas"]) or "BLAS unknown",
             f"SIMD path {m['simd_path']}" if m.get("simd_path") else "no SIMD path (BLAS)",
             f"torch {m['torch']}" if m["torch"] else "torch not installed"]
    if load is not None:
        parts.append(f"other processes used {load:.2f} cores during the run")
    if result["quick"]:
        parts.append("QUICK run (short timings, extrapolated experiment)")
    return " · ".join(parts)


def throughput_table(result: dict) -> Table:
    rows = _rows(result)
    body = [(label, *(_rate(rows[(peer, d, b)]["examples_per_second"]) for d, b in COLUMNS))
            for peer, label in PEER_LABELS.items()]
    body += [(f"vgrad ÷ {peer}", *(_times(result["ratios"][d][str(b)][peer]) for d, b in COLUMNS))
             for peer in PEER_LABELS if peer != "vgrad"]
    return Table(f"Examples per second, forward + backward + update ({result['net']}, 1 thread)",
                 ("", *(f"{d}\nbatch {b}" for d, b in COLUMNS)), tuple(body),
                 strong_rows=frozenset({len(PEER_LABELS)}), rule_after=frozenset({len(PEER_LABELS) - 1}))


def flops_table(result: dict) -> Table:
    rows = _rows(result)
    body = [("numpy matmul 1000×1000", *(_gflops(result["matmul"][d]["gflops"]) for d in DTYPES))]
    body += [(f"{PEER_LABELS[peer]}, full batch", *(_gflops(rows[(peer, d, 1000)]["gflops"]) for d in DTYPES))
             for peer in ("vgrad", "numpy", "torch")]
    body.append((SHARE_LABEL, *(_share(result["engine_share_of_matmul"][d]) for d in DTYPES)))
    executed = (_gflops(rows[("vgrad", d, 1000)]["gflops_performed"]) for d in DTYPES)
    body.append(("vgrad, full batch, executed", *executed))
    note = rows[("vgrad", "float64", 1000)]["note"]
    return Table("GFLOP/s, one thread (matrix products; full batch = 1000 probe images)",
                 ("", *DTYPES), tuple(body),
                 caption=f"The net's FLOPs per second, counted alike for every peer; vgrad full batch {note}, "
                         "its executed rate on the last line." if note else "")


def experiment_table(result: dict) -> Table:
    exp, start = result["experiment"], result["startup"]
    scale = exp["scale"]
    header = ("", "seconds") + ((f"× {scale:g} ({EXPERIMENT_EPOCHS} epochs)",) if scale != 1 else ())

    def row(label: str, seconds: float, scalable: bool = True) -> tuple[str, ...]:
        scaled = (f"{seconds * scale:.2f}" if scalable else "",) if scale != 1 else ()
        return (label, f"{seconds:.2f}", *scaled)

    body = (row("vgrad, one worker thread (nets one after another)", exp["engine_1_thread_s"]),
            row("vgrad, 2 cores (one thread per net, as the app runs)", exp["engine_2_cores_s"]),
            row("batched numpy, 2 cores (one thread per net)", exp["numpy_2_cores_s"]),
            row(f"{exp['command']} (start-up + compute, warm cache)", exp["command_s"], scalable=False),
            row("numba cold compile, fresh cache (float64)", start["cold_compile_s"], scalable=False),
            row("warm start to first step", start["warm_first_step_s"], scalable=False))
    return Table(f"The default three-net speed experiment ({', '.join(exp['nets'])}; "
                 f"{exp['epochs']} full-batch epochs, {exp['gflop']:.0f} GFLOP)", header, body,
                 caption=f"2 cores vs one thread: {exp['speedup_2_cores']:.2f}×; "
                         f"two nets on two threads vs one net on one: {exp['two_thread_scaling']:.2f}×")


def watch_table(result: dict) -> Table | None:
    """vgrad.watch's cost per PyTorch training step and a record's way to the board (None without torch)."""
    watch = result.get("watch")
    if watch is None:
        return None
    step, extra, latency = watch["step_s"], watch["extra_percent"], watch["latency"]
    in_log = watch["log_percent"]
    rows = (("without watch", f"{step['off'] * 1e3:.2f}", "", ""),
            ("vgrad.watch, every=1", f"{step['every_1'] * 1e3:.2f}", f"{extra['every_1']:+.1f} %",
             f"{in_log['every_1']:.1f} %"),
            ("vgrad.watch, every=10", f"{step['every_10'] * 1e3:.2f}", f"{extra['every_10']:+.1f} %",
             f"{in_log['every_10']:.1f} %"),
            *((("optimizer= + activations, every=10", f"{step['full_10'] * 1e3:.2f}",
                f"{extra['full_10']:+.1f} %", "in the step"),) if "full_10" in step else ()),
            *_floor_rows(watch))
    return Table(f"vgrad.watch on a PyTorch MLP {watch['net']}, batch {watch['batch']}, 1 thread "
                 f"({watch['windows']} rounds of {len(step)} alternating windows of {watch['steps_per_window']} steps; "
                 "extra: the median round's ratio to its unwatched window)",
                 ("", "ms per step (CPU)", "extra", "inside its calls"), rows,
                 caption=f"a written record reaches the board in {latency['median_s'] * 1e3:.0f} ms "
                         f"(worst {latency['max_s'] * 1e3:.0f} ms of {latency['records']}); "
                         f"the screen follows within a frame ({latency['frame_s'] * 1e3:.0f} ms)")


FLOOR_ROWS = (("bare_1", "torch's norms alone, every step"),
              ("fused_1", "fused kernels' norms alone, every step"),
              ("bare_full_10", "torch's θ copy and norms alone, every 10th"),
              ("fused_full_10", "fused θ copy and norms alone, every 10th"))


def _floor_rows(watch: dict) -> tuple:
    """The floors measured beside the watcher (bench/measures/watch_floor.py), those a figure has."""
    extra, inside = watch.get("bare_percent") or {}, watch.get("floor_direct_percent") or {}
    return tuple((text, "", f"{extra[key]:+.1f} %", f"{inside[key]:.1f} %" if key in inside else "")
                 for key, text in FLOOR_ROWS if key in extra)


def target_cells(target: dict) -> tuple[str, str, str, str, str]:
    """(text, measured, needed, verdict, note) of one target."""
    unit, measured = UNITS[target["unit"]], target["measured"]
    digits = "{:.1f}" if target["unit"] == "%" else "{:.2f}"
    shown = UNDEFINED if measured is None else digits.format(measured) + unit
    sign = "≥" if target["higher_is_better"] else "≤"
    return (target["text"], shown, f"{sign} {target['threshold']:g}{unit}", VERDICTS[target["passed"]],
            target["note"])


def targets_table(result: dict) -> Table:
    return Table("Targets", ("target", "measured", "needed", "", "note"),
                 tuple(target_cells(t) for t in result["targets"]), align="lrrll", verdict_column=3,
                 quiet_column=4)


def paths_table(result: dict) -> Table:
    header, rows = paths_cells(result.get("paths"))
    return Table("SIMD paths, each timed in its own process (vgrad ÷ batched numpy)", header, rows,
                 caption="numba compiles each path's kernels for its target (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES)")


def report(result: dict) -> list[str | Table]:
    """Everything `vgrad-tui bench` shows, top to bottom: a machine line, then the tables."""
    watch = watch_table(result)
    return [machine_line(result), throughput_table(result), flops_table(result), experiment_table(result),
            paths_table(result), *([watch] if watch else []), targets_table(result)]
