"""What `vgrad.watch` costs the training it watches, and how soon `vgrad-tui watch` shows a record.

Overhead: a PyTorch MLP 784-256×8-10 (8 hidden layers of 256, sigmoid) at batch 64 on one
CPU thread, training steps timed (this thread's CPU time) in rounds of three short windows: without a
watcher, with `every=1` and with `every=10`, each first in turn, so the three share the host's
load; the extra time per step in % is the median over rounds of a watched window against the
unwatched one of its round. Latency: a writer appends a record, and the
time until a FollowRunner polling as `watch` does has put it on the board; the screen
adds at most one dashboard frame (1/15 s) on top.
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


def _window(torch, model, optimizer, x, y, steps: int, watcher, first: int) -> tuple[float, float]:
    """CPU seconds of this thread per training step over `steps` steps (watched if `watcher`), and
    of those the seconds inside watcher.log: thread time, so other processes on a shared host do
    not count."""
    start, in_log = time.thread_time(), 0.0
    for step in range(first, first + steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if watcher is not None:
            before = time.thread_time()
            watcher.log(step, loss=loss)
            in_log += time.thread_time() - before
        optimizer.step()
    return (time.thread_time() - start) / steps, in_log / steps


def watch_overhead(quick: bool = False) -> dict | None:
    """Median seconds per step without and with watch (every 1, every 10), the extra in %, and
    watch.log's own share of a step in % (the direct cost, free of the windows' noise); None when
    torch cannot be imported."""
    try:
        import torch
    except Exception:  # not installed: skipped with a note
        return None
    import vgrad

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # one model for all three: a watcher only reads the gradients when it logs (no hooks), and
        # copies of the model would differ in where their tensors lie, which alone moved a step's time
        model = _mlp(torch)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        generator = torch.Generator().manual_seed(0)
        x, y = torch.rand(BATCH, 784, generator=generator), torch.randint(0, 10, (BATCH,), generator=generator)
        windows, steps = (QUICK_WINDOWS, QUICK_STEPS) if quick else (WINDOWS, STEPS)
        times: dict[str, list[float]] = {"off": [], "every_1": [], "every_10": []}
        in_log: dict[str, list[float]] = {"off": [], "every_1": [], "every_10": []}
        with tempfile.TemporaryDirectory() as folder:
            watchers = {"off": None,
                        "every_1": vgrad.watch(model, Path(folder) / "every1.jsonl", every=1),
                        "every_10": vgrad.watch(model, Path(folder) / "every10.jsonl", every=10)}
            names = list(watchers)
            for watcher in watchers.values():   # warm up, and compile the CPU norms' kernel
                _window(torch, model, optimizer, x, y, 1, watcher, 0)
            gc.collect()
            gc.disable()   # as timeit does: a collection's pause would land in one window at random
            try:
                for window in range(windows):
                    for name in names[window % 3:] + names[:window % 3]:     # each goes first in turn
                        step_s, log_s = _window(torch, model, optimizer, x, y, steps, watchers[name],
                                                window * steps)
                        times[name].append(step_s)
                        in_log[name].append(log_s)
            finally:
                gc.enable()
            for watcher in watchers.values():
                if watcher is not None:
                    watcher.close()
    finally:
        torch.set_num_threads(threads)
    median = {name: statistics.median(values) for name, values in times.items()}
    # each window against the unwatched one of its own round: the host's drift cancels out
    ratios = {name: [watched / off for watched, off in zip(times[name], times["off"])]
              for name in ("every_1", "every_10")}
    return {"net": f"784-{WIDTH}x{HIDDEN}-10", "batch": BATCH, "threads": 1, "windows": windows,
            "steps_per_window": steps, "step_s": median,
            "extra_percent": {name: 100 * (statistics.median(ratios[name]) - 1) for name in ("every_1", "every_10")},
            "log_percent": {name: 100 * statistics.median(in_log[name]) / median["off"]
                            for name in ("every_1", "every_10")},
            "latency": watch_latency(quick)}


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
