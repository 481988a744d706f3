"""The runner: one worker thread per net, with pause, single step, stop and restart.

Each worker iterates experiment.run_experiment (whose kernels release the GIL),
publishes every record on the Board and hands it to the sinks (JSONL/CSV
recorders). A worker's exception is caught, shown on the board and recorded as an
`error` event; a non-finite record stops only that net, with a `diverged` event.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator

from vgrad.core.data import Dataset
from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board
from vgrad.core.run.config import Config
from vgrad.core.run.experiment import run_experiment
from vgrad.core.run.spec import NetSpec

RecordSource = Callable[[int], Iterator[StepRecord]]


class Runner:
    """Runs every net of a run on its own thread and keeps the board current."""

    def __init__(self, specs: tuple[NetSpec, ...], board: Board, source: RecordSource,
                 sinks: tuple = (), pace: Callable[[int], None] | None = None):
        self.specs = specs
        self.board = board
        self.source = source
        self.sinks = sinks
        self.pace = pace
        self._stop = threading.Event()
        self._gate = threading.Condition()
        self._paused = False
        self._step_tokens = [0] * len(specs)
        self._ended = threading.Condition()  # guards _live, the workers not yet ended
        self._live = 0
        self.started_at = 0.0
        self.errors: dict[int, str] = {}

    @classmethod
    def for_training(cls, specs, data: Dataset, config: Config, board: Board, sinks=()) -> Runner:
        def source(index: int) -> Iterator[StepRecord]:
            return run_experiment(specs[index], data, config, index)
        return cls(specs, board, source, sinks)

    # lifecycle
    def start(self) -> None:
        from vgrad.core.run.threads import limit_blas_threads
        limit_blas_threads()
        self._stop.clear()
        self.started_at = time.perf_counter()
        threads = [threading.Thread(target=self._work, args=(i,), name=f"vgrad-net-{i}", daemon=True)
                   for i in range(len(self.specs))]
        with self._ended:
            self._live = len(threads)
        for thread in threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._gate:
            self._gate.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the workers; True when all have ended.

        Waits on a condition the workers signal, not on Thread.join: Ctrl+C interrupting
        Thread.join(timeout) marks a still-running thread as ended (CPython 3.11), and the
        summary then showed that net as still running.
        """
        with self._ended:
            return self._ended.wait_for(lambda: self._live == 0, timeout)

    @property
    def alive(self) -> bool:
        with self._ended:
            return self._live > 0

    def restart(self) -> None:
        """Stop every net and start them again from the same seed."""
        self.stop()
        self.join()
        self.board.reset()
        with self._gate:
            self._step_tokens = [0] * len(self.specs)
        self.start()

    # teaching controls
    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._gate:
            self._paused = True
        for i, view in enumerate(self.board.snapshot().nets):
            if view.state == "running":
                self.board.set_state(i, "paused")

    def resume(self) -> None:
        with self._gate:
            self._paused = False
            self._gate.notify_all()
        for i, view in enumerate(self.board.snapshot().nets):
            if view.state == "paused":
                self.board.set_state(i, "running")

    def toggle_pause(self) -> None:
        self.resume() if self._paused else self.pause()

    def step(self) -> None:
        """While paused: let every net take exactly one more record."""
        with self._gate:
            if not self._paused:
                return
            self._step_tokens = [tokens + 1 for tokens in self._step_tokens]
            self._gate.notify_all()

    def _may_continue(self, index: int) -> bool:
        """Block while paused (unless a single step is granted); False once stopped."""
        with self._gate:
            while self._paused and not self._stop.is_set():
                if self._step_tokens[index] > 0:
                    self._step_tokens[index] -= 1
                    break
                self._gate.wait(0.2)
        return not self._stop.is_set()

    # the worker
    def _work(self, index: int) -> None:
        try:
            self._train(index)
        finally:  # after the net's final state is on the board
            with self._ended:
                self._live -= 1
                self._ended.notify_all()

    def _train(self, index: int) -> None:
        board = self.board
        board.set_state(index, "paused" if self._paused else "running")
        last: StepRecord | None = None
        try:
            records = self.source(index)
            while self._may_continue(index):
                record = next(records, None)
                if record is None or self._stop.is_set():
                    break
                last = record
                board.publish(record)
                self._to_sinks("step", record)
                if not record.is_finite:
                    reason = f"non-finite value at epoch {record.epoch}, step {record.step}"
                    board.set_state(index, "diverged", reason)
                    self._to_sinks("event", index, "diverged", epoch=record.epoch, step=record.step,
                                   message=reason)
                    return
                if self.pace is not None:
                    self.pace(index)
        except Exception as error:  # a worker must never die silently
            message = f"{type(error).__name__}: {error}"
            self.errors[index] = traceback.format_exc()
            board.set_state(index, "error", message)
            self._to_sinks("event", index, "error", message=message,
                           epoch=None if last is None else last.epoch)
            return
        if self._stop.is_set():
            board.set_state(index, "stopped")
            return
        board.set_state(index, "done")
        self._to_sinks("event", index, "done", epoch=None if last is None else last.epoch,
                       step=None if last is None else last.step)

    def _to_sinks(self, kind: str, *args, **info) -> None:
        for sink in self.sinks:
            if kind == "step":
                sink.step(*args)
            else:
                sink.event(*args, **info)
            failure = getattr(sink, "failure", None)
            if failure:
                self.board.notice(failure)
