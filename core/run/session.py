"""Wire a run together: board, recorders and runner, from resolved specs, data and config."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.record.format import run_header
from vgrad.core.record.sink import Sink
from vgrad.core.record.writer import CsvRecorder, JsonlRecorder
from vgrad.core.run.board import Board
from vgrad.core.run.runner import Runner
from vgrad.core.spec import NetSpec
from vgrad.core.status import EndStatus
from vgrad.core.train.warmup import compile_kernels


@dataclass
class Session:
    """One live run: what trains (runner), what it shows (board) and what it writes (sinks)."""

    specs: tuple[NetSpec, ...]
    config: Config
    data_name: str
    board: Board
    runner: Runner
    sinks: tuple[Sink, ...] = field(default_factory=tuple)
    started: float = field(default_factory=time.perf_counter)

    def finish(self, status: EndStatus) -> None:
        """Stop the workers and close every recorder with an end line."""
        self.runner.stop()
        self.runner.join(timeout=10)
        elapsed = time.perf_counter() - self.started
        for sink in self.sinks:
            sink.end(status, elapsed)


def open_session(specs: tuple[NetSpec, ...], data: Dataset, config: Config,
                 run_file: Path | None = None, csv: Path | None = None, *,
                 compile_first: bool = False) -> Session:
    """A session ready to start. With compile_first, the runner compiles (or loads) the kernels
    of this run's mode and precision before its workers start, every net showing COMPILING."""
    board = Board(specs, config.n_epochs)
    sinks: list[Sink] = []
    if run_file is not None:
        sinks.append(JsonlRecorder(run_file, run_header(specs, config, data.name, data.sizes())))
    if csv is not None:
        sinks.append(CsvRecorder(csv, specs))
    batchnorm = any(spec.batchnorm for spec in specs)
    prepare = (partial(compile_kernels, config.dtype, modes=(config.mode,), batchnorm=batchnorm)
               if compile_first else None)
    runner = Runner.for_training(specs, data, config, board, tuple(sinks), prepare=prepare)
    return Session(specs=specs, config=config, data_name=data.name, board=board, runner=runner,
                   sinks=tuple(sinks))
