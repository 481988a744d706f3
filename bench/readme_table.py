"""Print the README's Performance tables (markdown) from `vgrad-tui bench --json` output.

    vgrad-tui bench --json > bench.json && python bench/readme_table.py bench.json
"""

from __future__ import annotations

import json
import sys

LABELS = {"vgrad": "vgrad (numba engine)", "numpy": "numpy, batched", "book": "book, per example",
          "torch": "PyTorch CPU"}
COLUMNS = (("float64", 10), ("float64", 1000), ("float32", 10), ("float32", 1000))


def _num(value, fmt="{:,.0f}"):
    return "—" if value is None else fmt.format(value)


def tables(report: dict) -> str:
    rows = {(r["peer"], r["dtype"], r["batch"]): r for r in report["throughput"]}
    m, exp, start = report["machine"], report["experiment"], report["startup"]
    out = [f"Machine: {m['cpu']}, {m['cores']} cores; numpy {m['numpy']}, numba {m['numba']}, "
           f"{'; '.join(m['blas'])}; torch {m['torch'] or 'not installed'}; other processes used "
           f"{_num(report['background_load_cores'], '{:.2f}')} cores during the run.", "",
           "| examples/s (forward + backward + update) | f64 batch 10 | f64 batch 1000 | f32 batch 10 | f32 batch 1000 |",
           "|---|---|---|---|---|"]
    for peer, label in LABELS.items():
        cells = []
        for dtype, batch in COLUMNS:
            rate = rows[(peer, dtype, batch)]["examples_per_second"]
            ratio = report["ratios"][dtype][str(batch)].get(peer) if peer != "vgrad" else None
            cells.append(_num(rate) + (f" (vgrad {ratio:.1f}×)" if ratio else ""))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    share = report["engine_share_of_matmul"]
    out += ["", f"numpy matmul 1000×1000: {report['matmul']['float64']['gflops']:.1f} GFLOP/s (float64), "
                f"{report['matmul']['float32']['gflops']:.1f} (float32); vgrad full batch executes "
                f"{rows[('vgrad', 'float64', 1000)]['gflops_performed']:.1f} GFLOP/s = {share['float64']:.1%} of it "
                f"(float32 {share['float32']:.1%}).", "",
            f"| three-net speed experiment, {exp['epochs']} epochs ({exp['gflop']:.0f} GFLOP) | seconds |",
            "|---|---|",
            f"| vgrad, one worker thread (nets one after another) | {exp['engine_1_thread_s']:.2f} |",
            f"| vgrad, 2 cores (one thread per net, as the app runs) | {exp['engine_2_cores_s']:.2f} |",
            f"| batched numpy, 2 cores (one thread per net) | {exp['numpy_2_cores_s']:.2f} |",
            f"| `{exp['command']}`: start-up + compute, warm cache | {exp['command_s']:.2f} |",
            f"| numba cold compile (fresh cache, float64) | {start['cold_compile_s']:.2f} |",
            f"| warm start to first step | {start['warm_first_step_s']:.2f} |", "",
            f"Two nets on two threads: {exp['two_thread_scaling']:.2f}× one net on one.", "",
            "| target | measured | needed | |", "|---|---|---|---|"]
    for t in report["targets"]:
        unit = {"x": "×", "%": " %", "s": " s"}[t["unit"]]
        sign = "≥" if t["higher_is_better"] else "≤"
        verdict = {True: "PASS", False: "FAIL", None: "skipped"}[t["passed"]]
        digits = "{:.1f}" if t["unit"] == "%" else "{:.2f}"
        out.append(f"| {t['text']} | {_num(t['measured'], digits)}{unit if t['measured'] is not None else ''} "
                   f"| {sign} {t['threshold']:g}{unit} | {verdict} |")
    return "\n".join(out)


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print(tables(json.load(handle)))
