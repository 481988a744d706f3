"""The performance targets (DESIGN.md), each judged on figures measured in the same run."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vgrad.bench.measures.paths import path_targets
from vgrad.bench.problem import BATCHES, PEERS
from vgrad.bench.timing import Throughput
from vgrad.core.config import DTYPES


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    measured: float | None
    threshold: float
    unit: str                 # "x", "%", "s"
    higher_is_better: bool = True
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """True or False once measured; None when skipped (not measured, or not finite)."""
        if self.measured is None or not math.isfinite(self.measured):
            return None
        if self.higher_is_better:
            return self.measured >= self.threshold
        return self.measured <= self.threshold

    def as_dict(self) -> dict:
        return {"key": self.key, "text": self.text, "measured": self.measured, "threshold": self.threshold,
                "unit": self.unit, "higher_is_better": self.higher_is_better, "passed": self.passed,
                "note": self.note}


def find_row(rows: list[Throughput], peer: str, dtype: str, batch: int) -> Throughput | None:
    for row in rows:
        if (row.peer, row.dtype, row.batch) == (peer, dtype, batch):
            return row
    return None


def _rate(rows: list[Throughput], peer: str, dtype: str, batch: int) -> float | None:
    row = find_row(rows, peer, dtype, batch)
    return None if row is None else row.examples_per_second


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def ratios(rows: list[Throughput]) -> dict:
    """vgrad's examples/s over each peer's, per dtype and batch."""
    out: dict = {}
    for dtype in DTYPES:
        out[dtype] = {}
        for batch in BATCHES:
            ours = _rate(rows, "vgrad", dtype, batch)
            out[dtype][str(batch)] = {peer: _ratio(ours, _rate(rows, peer, dtype, batch))
                                      for peer in PEERS if peer != "vgrad"}
    return out


def targets(result: dict) -> list[Target]:
    """Every target, judged on the result's figures (a quick run's experiment extrapolated to 500 epochs)."""
    r64 = result["ratios"]["float64"]
    exp, start = result["experiment"], result["startup"]
    torch_note = "" if result["torch"] else "PyTorch not importable here: skipped"
    scale = exp["scale"]
    scaled = f"quick run: extrapolated from {exp['epochs']} epochs" if scale != 1 else ""
    # the command's start-up is paid once; its compute and numpy's grow with the epochs
    command_full = exp["command_s"] + (scale - 1) * exp["engine_2_cores_s"]
    command_vs_numpy = _ratio(exp["numpy_2_cores_s"] * scale, command_full)
    return [
        Target("numpy_batch10", "vgrad ≥ 1.8× batched numpy at batch 10", r64["10"]["numpy"], 1.8, "x"),
        Target("book_batch10", "vgrad ≥ 15× the book's per-example algorithm at batch 10", r64["10"]["book"], 15, "x"),
        Target("torch_batch10", "vgrad ≥ 10× PyTorch CPU at batch 10", r64["10"]["torch"], 10, "x",
               note=torch_note),
        Target("matmul_share", "full batch ≥ 70 % of the machine's matmul rate",
               result["engine_share_of_matmul"]["float64"] * 100, 70, "%",
               note="the net's FLOPs per second, counted as numpy's are; the engine skips the zero pixels"),
        Target("two_threads", "two nets on two threads ≥ 1.7× one thread's throughput", exp["two_thread_scaling"],
               1.7, "x"),
        Target("experiment_time", "three-net experiment computes in ≤ 3 s on 2 cores",
               exp["engine_2_cores_s"] * scale, 3.0, "s", higher_is_better=False, note=scaled),
        Target("experiment_vs_numpy", "three-net experiment ≥ 1.4× batched numpy (2 cores)",
               _ratio(exp["numpy_2_cores_s"], exp["engine_2_cores_s"]), 1.4, "x"),
        Target("command_vs_numpy", "whole command (start-up, warm cache) beats numpy's compute time",
               command_vs_numpy, 1.0, "x", note="numpy's seconds / the command's" + (f"; {scaled}" if scaled else "")),
        Target("warm_start", "warm start to first step ≤ 1.5 s", start["warm_first_step_s"], 1.5, "s",
               higher_is_better=False),
        Target("cold_compile", "cold compile ≤ 15 s (behind a spinner)", start["cold_compile_s"], 15.0, "s",
               higher_is_better=False),
        *_accuracy_target(result.get("accuracy")),
        *path_targets(result.get("paths"), Target),
        *_watch_targets(result.get("watch")),
    ]


def _accuracy_target(accuracy: dict | None) -> list[Target]:
    """reproduce --accuracy's four nets, 30 epochs on 60k images, ≤ 30 s on 2 cores (if measured)."""
    if accuracy is None:
        return []
    return [Target("accuracy_time", "reproduce --accuracy (4 nets, 30 epochs, 60k images) ≤ 30 s on 2 cores",
                   accuracy["seconds_30_epochs"], 30.0, "s", higher_is_better=False,
                   note=f"{accuracy['dtype']}, synthetic images; extrapolated from {accuracy['epochs']} epochs")]


def _watch_targets(watch: dict | None) -> list[Target]:
    """vgrad.watch's cost to a PyTorch training step, and a record's way to the screen (if torch ran)."""
    if watch is None:
        return []
    note = f"PyTorch MLP {watch['net']}, batch {watch['batch']}, 1 thread, CPU time"
    latency = watch["latency"]
    in_log = watch["log_percent"]
    floor_1 = _floors(watch, "bare_1", "fused_1")
    floor_full = _floors(watch, "bare_full_10", "fused_full_10")
    return [Target("watch_every_1", "vgrad.watch every=1: extra training-step time ≤ 5 %",
                   watch["extra_percent"]["every_1"], 5.0, "%", higher_is_better=False,
                   note=f"{note}; watch.log itself {in_log['every_1']:.1f} % of a step{floor_1}"),
            Target("watch_every_10", "vgrad.watch every=10: extra training-step time ≤ 1 %",
                   watch["extra_percent"]["every_10"], 1.0, "%", higher_is_better=False,
                   note=f"{note}; watch.log itself {in_log['every_10']:.1f} % of a step"),
            Target("watch_full_10", "vgrad.watch optimizer= + update ratio + activations, every=10: extra ≤ 2 %",
                   watch["extra_percent"]["full_10"], 2.0, "%", higher_is_better=False,
                   note=f"{note}; recorded inside optimizer.step(){floor_full}"),
            *_watch_memory_target(watch.get("memory")),
            Target("watch_latency", "vgrad-tui watch: a written record on screen ≤ 0.5 s",
                   latency["max_s"] + latency["frame_s"], 0.5, "s", higher_is_better=False,
                   note=f"worst of {latency['records']} to the board, plus one frame")]


def _floors(watch: dict, torch_key: str, fused_key: str) -> str:
    """A note's floors (watch_floor.py, in the watch table): torch's ops alone, fused kernels."""
    extra = watch.get("bare_percent") or {}
    parts = [f"{who} {extra[key]:+.1f} %" for who, key in (("torch", torch_key),
                                                            ("fused", fused_key)) if key in extra]
    return f"; floor: {', '.join(parts)}" if parts else ""


def _watch_memory_target(memory: dict | None) -> list[Target]:
    """A recorded step's extra peak memory with everything on, in copies of the parameters (Linux)."""
    if memory is None:
        return []
    return [Target("watch_memory", "vgrad.watch: a recorded step's extra peak memory ≤ one copy of the parameters",
                   memory["peak_copies"], 1.0, "x", higher_is_better=False,
                   note=f"peak resident memory beyond an unwatched step's (median of {memory['rounds']}); "
                        f"{memory['left_copies']:+.2f} copies still resident after it")]


def failed(result: dict) -> list[str]:
    """The texts of the targets a bench result FAILs (skipped ones are not failures)."""
    return [t["text"] for t in result["targets"] if t["passed"] is False]
