"""The runner: one worker thread per net, with pause, single step, stop and restart.

Each worker iterates experiment.run_experiment (whose kernels release the GIL),
publishes every record on the Board and hands it to the sinks (record.sink.Sink: the
JSONL/CSV recorders). A worker's exception is caught, shown on the board and recorded as an
`error` event; a non-finite record stops only that net, with a `diverged` event.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from functools import partial

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.record.format import RESTART
from vgrad.core.record.sink import Sink
from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board
from vgrad.core.spec import NetSpec
from vgrad.core.status import NetState
from vgrad.core.train.experiment import run_experiment

RecordSource = Callable[[int], Iterator[StepRecord]]


class Runner:
    """Runs every net of a run on its own thread and keeps the board current.

    With `prepare` (compile the kernels), start() first runs it on a thread of its own while
    every net shows COMPILING, then starts the workers. numba's compile cannot be interrupted,
    but a stop() during it ends the run at once: the nets show STOPPED, join() returns, and
    the compile finishes (or dies with the process) without starting anything.
    """

    def __init__(self, specs: tuple[NetSpec, ...], board: Board, source: RecordSource,
                 sinks: tuple[Sink, ...] = (), pace: Callable[[int], None] | None = None,
                 prepare: Callable[[], object] | None = None):
        self.specs = specs
        self.board = board
        self.source = source
        self.sinks = sinks
        self.pace = pace
        self.prepare = prepare
        self._stop = threading.Event()    # this start's; each start() makes a new one
        self._gate = threading.Condition()
        self._step_tokens = [0] * len(specs)
        self._ended = threading.Condition()  # guards _live (workers not yet ended) and _preparing
        self._live = 0
        self._preparing = False
        self.started_at = 0.0
        self.errors: dict[int, str] = {}

    @classmethod
    def for_training(cls, specs: tuple[NetSpec, ...], data: Dataset, config: Config, board: Board,
                     sinks: tuple[Sink, ...] = (), prepare: Callable[[], object] | None = None) -> Runner:
        def source(index: int) -> Iterator[StepRecord]:
            return run_experiment(specs[index], data, config, index)
        return cls(specs, board, source, sinks, prepare=prepare)

    # lifecycle
    def start(self) -> None:
        from vgrad.core.train.threads import limit_blas_threads
        limit_blas_threads()
        stop = self._stop = threading.Event()
        self.started_at = time.perf_counter()
        with self._ended:
            self._live = len(self.specs)
            self._preparing = self.prepare is not None
        if self.prepare is None:
            self._launch(stop)
            return
        for index in range(len(self.specs)):
            self.board.set_state(index, NetState.COMPILING)
        threading.Thread(target=self._prepare_then_launch, args=(stop,), name="vgrad-compile",
                         daemon=True).start()

    def _prepare_then_launch(self, stop: threading.Event) -> None:
        assert self.prepare is not None
        try:
            self.prepare()
        except Exception as error:  # every net would fail the same way: say so once per net
            failure: BaseException | None = error
        else:
            failure = None
        with self._ended:
            if stop.is_set():  # stop() has ended this start already
                return
            self._preparing = False
            if failure is not None:
                message = f"compiling the kernels failed: {type(failure).__name__}: {failure}"
                for index in range(len(self.specs)):
                    self._fail(index, message, traceback.format_exception(failure), last=None)
                self._live = 0
                self._ended.notify_all()
                return
        self._launch(stop)

    def _launch(self, stop: threading.Event) -> None:
        for index in range(len(self.specs)):
            threading.Thread(target=self._work, args=(index, stop), name=f"vgrad-net-{index}",
                             daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        with self._gate:
            self._gate.notify_all()
        with self._ended:
            if self._preparing:  # no worker started: the run ends here
                self._preparing = False
                self._live = 0
                for index in range(len(self.specs)):
                    self.board.set_state(index, NetState.STOPPED)
                self._ended.notify_all()

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
        for index in range(len(self.specs)):  # the file says so: its epochs start again at 0
            self._tell_sinks(partial(_restart_event, index=index))
        self.board.reset()
        with self._gate:
            self._step_tokens = [0] * len(self.specs)
        self.start()

    # teaching controls: whether the run is paused lives on the board
    @property
    def paused(self) -> bool:
        return self.board.paused

    def pause(self) -> None:
        self.board.set_paused(True)

    def resume(self) -> None:
        self.board.set_paused(False)
        with self._gate:
            self._gate.notify_all()

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def step(self) -> None:
        """While paused: let every net take exactly one more record."""
        with self._gate:
            if not self.board.paused:
                return
            self._step_tokens = [tokens + 1 for tokens in self._step_tokens]
            self._gate.notify_all()

    def _may_continue(self, index: int, stop: threading.Event) -> bool:
        """Block while paused (unless a single step is granted); False once stopped."""
        with self._gate:
            while self.board.paused and not stop.is_set():
                if self._step_tokens[index] > 0:
                    self._step_tokens[index] -= 1
                    break
                self._gate.wait(0.2)
        return not stop.is_set()

    # the worker
    def _work(self, index: int, stop: threading.Event) -> None:
        try:
            self._train(index, stop)
        finally:  # after the net's final state is on the board
            with self._ended:
                self._live -= 1
                self._ended.notify_all()

    def _train(self, index: int, stop: threading.Event) -> None:
        board = self.board
        board.set_state(index, NetState.RUNNING)  # the board shows it paused while the run is
        last: StepRecord | None = None
        try:
            records = self.source(index)
            while self._may_continue(index, stop):
                record = next(records, None)
                if record is None or stop.is_set():
                    break
                last = record
                if not self._publish(index, record):
                    return
                if self.pace is not None:
                    self.pace(index)
        except Exception as error:  # a worker must never die silently
            self._fail(index, f"{type(error).__name__}: {error}", traceback.format_exc(), last)
            return
        if stop.is_set():
            board.set_state(index, NetState.STOPPED)
            return
        board.set_state(index, NetState.DONE)
        epoch, step = (None, None) if last is None else (last.epoch, last.step)
        self._tell_sinks(lambda sink: sink.event(index, NetState.DONE, epoch=epoch, step=step))

    def _publish(self, index: int, record: StepRecord) -> bool:
        """Put a record on the board and in every sink; False if it diverged (the net stops)."""
        self.board.publish(record)
        self._tell_sinks(lambda sink: sink.step(record))
        if record.is_finite:
            return True
        reason = f"non-finite value at epoch {record.epoch}, step {record.step}"
        self.board.set_state(index, NetState.DIVERGED, reason)
        self._tell_sinks(lambda sink: sink.event(index, NetState.DIVERGED, epoch=record.epoch,
                                                 step=record.step, message=reason))
        return False

    def _fail(self, index: int, message: str, trace: str | list[str], last: StepRecord | None) -> None:
        """Net `index` failed: its state, its traceback kept for the CLI, an error event."""
        self.errors[index] = "".join(trace)
        self.board.set_state(index, NetState.ERROR, message)
        epoch = None if last is None else last.epoch
        self._tell_sinks(lambda sink: sink.event(index, NetState.ERROR, message=message, epoch=epoch))

    def _tell_sinks(self, tell: Callable[[Sink], None]) -> None:
        """Hand something to every sink; a sink that stopped writing becomes a board notice."""
        for sink in self.sinks:
            tell(sink)
            if sink.failure:
                self.board.notice(sink.failure)


def _restart_event(sink: Sink, index: int) -> None:
    sink.event(index, RESTART)
