"""What `vgrad.watch` costs the training it watches, and how soon `vgrad-tui watch` shows a record.

Overhead: a PyTorch MLP 784-256×8-10 (8 hidden layers of 256, sigmoid) at batch 64 on one
CPU thread, training steps timed (this thread's CPU time) in rounds of four short windows: without a
watcher, gradients only with `every=1` and with `every=10` (`log` after backward), and everything
(`optimizer=`, so the update ratio, and `activations=True`) with `every=10`, each first in turn,
so the four share the host's load; then, in rounds of their own, the floors of watch_floor.py
(the gradients' norms every step; with θ's copy and norms every 10th step), by torch's own
ops and by fused kernels that read each value once. The extra time per step in % is the median
over rounds of a window against the unwatched one of its round; each floor's time inside its
own calls is also kept (per step, in % of an unwatched step).
Memory: the peak resident memory of a recorded step with everything on, beyond an unwatched
step's, in copies of the parameters, and what stays resident after it (Linux: VmHWM reset
through /proc/self/clear_refs). Latency: a writer appends a record, and the time until a
FollowRunner polling as `watch` does has put it on the board; the screen adds at most one
dashboard frame (1/15 s) on top.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import threading
import time
from pathlib import Path

HIDDEN, WIDTH, BATCH = 8, 256, 64
WINDOWS, QUICK_WINDOWS = 150, 10    # short windows, many: a shared host's load spikes hit all three alike
STEPS, QUICK_STEPS = 10, 10         # one record of every=10 in each window
LATENCY_RECORDS, QUICK_LATENCY_RECORDS = 40, 10
FRAME_S = 1 / 15          # the dashboard's poll period: the screen shows the board this much later at most


def _mlp(torch):
    torch.manual_seed(0)
    sizes = [784] + [WIDTH] * HIDDEN + [10]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers[:-1])


def _window(torch, model, optimizer, x, y, steps: int, watcher, first: int, settle=None) -> tuple[float, float]:
    """CPU seconds of this thread per training step over `steps` steps (watched if `watcher`), and
    of those the seconds inside watcher.log (wall clock): thread time, so other processes on a
    shared host do not count. A watcher with its optimizer records inside optimizer.step(): all of its cost is in
    the step's time. `settle`: an unwatched optimizer for one untimed step first, which pays for
    what the window before left (the heap it gave back, a cold cache) whoever that was."""
    if settle is not None:
        settle.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        settle.step()
    start, in_log = time.thread_time(), 0.0
    for step in range(first, first + steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if watcher is not None:
            before = time.perf_counter()   # not thread_time: a system call here, it would add to the watched windows
            watcher.log(step, loss=loss)
            in_log += time.perf_counter() - before
        optimizer.step()
    return (time.thread_time() - start) / steps, in_log / steps


WATCHED = ("every_1", "every_10", "full_10")
FLOORS = ("bare_1", "bare_full_10", "fused_1", "fused_full_10")   # watch_floor.py: torch's ops alone, fused kernels


def _rounds(torch, model, optimizers: dict, x, y, watchers: dict, windows: int, steps: int) -> tuple[dict, dict]:
    """Seconds per step of each watcher's windows (None: unwatched), and of those in its log, over
    `windows` rounds in which each goes first in turn."""
    logged = {name: None if "full_10" in name else watcher for name, watcher in watchers.items()}
    names = list(watchers)
    for name in names:   # warm up; a full watcher's record falls mid-window from here on, so its
        # forward hooks are never left on for another window's forwards
        _window(torch, model, optimizers[name], x, y, 5 if "full_10" in name else 1, logged[name], 0)
    times: dict[str, list[float]] = {name: [] for name in names}
    in_log: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    gc.disable()   # as timeit does: a collection's pause would land in one window at random
    try:
        for window in range(windows):
            shift = window % len(names)
            for name in names[shift:] + names[:shift]:
                step_s, log_s = _window(torch, model, optimizers[name], x, y, steps, logged[name],
                                        window * steps, settle=optimizers["off"])
                times[name].append(step_s)
                in_log[name].append(log_s)
    finally:
        gc.enable()
    return times, in_log


def _extra(times: dict, name: str) -> float:
    """The extra time per step in %: the median over rounds of each window against the unwatched
    one of its own round (the host's drift cancels out)."""
    return 100 * (statistics.median(watched / off for watched, off in zip(times[name], times["off"])) - 1)


def watch_overhead(quick: bool = False) -> dict | None:
    """Median seconds per step without and with watch (gradients every 1 and every 10, everything
    every 10), the extra in %, watch.log's own share of a step in % (the direct cost, free of the
    windows' noise), the memory of a recorded step and the latency; None when torch cannot be
    imported."""
    try:
        import torch
    except Exception:  # not installed: skipped with a note
        return None
    import vgrad
    from vgrad.bench.measures.watch_floor import FusedFloor, TorchFloor

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # one model for every window: a watcher reads nothing between its records (the full one's
        # forward hooks exist only during a recorded step's forward), and copies of the model would
        # differ in where their tensors lie, which alone moved a step's time
        model = _mlp(torch)
        optimizers = {name: torch.optim.SGD(model.parameters(), lr=0.01) for name in ("off", *WATCHED, *FLOORS)}
        generator = torch.Generator().manual_seed(0)
        x, y = torch.rand(BATCH, 784, generator=generator), torch.randint(0, 10, (BATCH,), generator=generator)
        windows, steps = (QUICK_WINDOWS, QUICK_STEPS) if quick else (WINDOWS, STEPS)
        with tempfile.TemporaryDirectory() as folder:
            watchers = {"off": None,
                        "every_1": vgrad.watch(model, Path(folder) / "every1.jsonl", every=1),
                        "every_10": vgrad.watch(model, Path(folder) / "every10.jsonl", every=10),
                        "full_10": vgrad.watch(model, Path(folder) / "full10.jsonl", every=10,
                                               optimizer=optimizers["full_10"], activations=True)}
            try:
                times, in_log = _rounds(torch, model, optimizers, x, y, watchers, windows, steps)
            finally:
                for name in WATCHED:
                    watchers[name].close()
            # the floor in rounds of its own: its windows' code would otherwise come between a
            # watcher's records and leave them colder than a training loop does
            floors = {"off": None, "bare_1": TorchFloor(torch, model, 1),
                      "bare_full_10": TorchFloor(torch, model, 10, optimizers["bare_full_10"]),
                      "fused_1": FusedFloor(torch, model, 1),
                      "fused_full_10": FusedFloor(torch, model, 10, optimizers["fused_full_10"])}
            floor_times, _ = _rounds(torch, model, optimizers, x, y, floors, windows, steps)
            memory = watch_memory(torch, model, x, y, Path(folder) / "memory.jsonl")
    finally:
        torch.set_num_threads(threads)
    median = {name: statistics.median(values) for name, values in times.items()}
    return {"net": f"784-{WIDTH}x{HIDDEN}-10", "batch": BATCH, "threads": 1, "windows": windows,
            "steps_per_window": steps, "step_s": median,
            "extra_percent": {name: _extra(times, name) for name in WATCHED},
            "bare_percent": {name: _extra(floor_times, name) for name in FLOORS},
            "floor_direct_percent": {name: 100 * statistics.median(floors[name].spent)
                                     / (1 if name.endswith("_1") else steps) / statistics.median(floor_times["off"])
                                     for name in FLOORS},
            "log_percent": {name: 100 * statistics.median(in_log[name]) / median["off"]
                            for name in ("every_1", "every_10")},
            "memory": memory, "latency": watch_latency(quick)}


def _resident() -> tuple[int, int] | None:
    """(resident, peak resident) bytes of this process (Linux), or None."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")   # the peak resident memory starts again from now
        return True
    except OSError:
        return False


def watch_memory(torch, model, x, y, path: Path, rounds: int = 7) -> dict | None:
    """The peak resident memory of a training step with everything recorded (optimizer=,
    activations, every=1) beyond an unwatched step's, and the resident memory left after it, in
    copies of the parameters (medians over rounds); None where the peak cannot be reset."""
    import vgrad

    params = sum(p.numel() * p.element_size() for p in model.parameters())
    plain = torch.optim.SGD(model.parameters(), lr=0.01)
    watched = torch.optim.SGD(model.parameters(), lr=0.01)
    watcher = vgrad.watch(model, path, every=1, optimizer=watched, activations=True)
    peaks: dict[str, list[int]] = {"off": [], "on": []}
    left: dict[str, list[int]] = {"off": [], "on": []}
    try:
        for _ in range(2):   # warm both paths up: the allocator's pools settle
            _window(torch, model, plain, x, y, 1, None, 0)
            _window(torch, model, watched, x, y, 1, None, 0)
        for _ in range(rounds):
            for name, optimizer in (("off", plain), ("on", watched)):
                before = _resident()
                if before is None or not _reset_peak():
                    return None
                _window(torch, model, optimizer, x, y, 1, None, 0)
                after = _resident()
                if after is None:
                    return None
                peaks[name].append(after[1] - before[0])
                left[name].append(after[0] - before[0])
    finally:
        watcher.close()
    return {"parameter_bytes": params,
            "peak_copies": (statistics.median(peaks["on"]) - statistics.median(peaks["off"])) / params,
            "left_copies": (statistics.median(left["on"]) - statistics.median(left["off"])) / params,
            "rounds": rounds}


def watch_latency(quick: bool = False) -> dict:
    """Seconds from a record's write to the board, as `vgrad-tui watch` polls (median, worst)."""
    import vgrad
    from vgrad.core.run.board import Board
    from vgrad.core.run.follow_runner import FollowRunner, plan

    count = QUICK_LATENCY_RECORDS if quick else LATENCY_RECORDS
    delays = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.jsonl"
        recorder = vgrad.Recorder(path, ["a", "b"])
        specs, files = plan([path])
        board = Board(specs, 0)
        runner = FollowRunner(files, board)
        runner.start()
        shown = threading.Event()
        try:
            for step in range(count):
                time.sleep(0.02 * (step % 5))          # records at irregular moments within a poll
                written = time.perf_counter()
                recorder.log(step, speed=[0.1, 0.2])
                while (latest := board.snapshot().nets[0].latest) is None or latest.step != step:
                    shown.wait(0.001)
                delays.append(time.perf_counter() - written)
        finally:
            runner.stop()
            runner.join()
            recorder.close()
    return {"records": count, "median_s": statistics.median(delays), "max_s": max(delays),
            "frame_s": FRAME_S, "poll_s": runner.poll_seconds}
