"""Wire a run together: board, recorders and runner, from resolved specs, data and config."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from vgrad.core.data import Dataset
from vgrad.core.record.format import run_header
from vgrad.core.record.writer import CsvRecorder, JsonlRecorder
from vgrad.core.run.board import Board
from vgrad.core.run.config import Config
from vgrad.core.run.runner import Runner
from vgrad.core.run.spec import NetSpec


@dataclass
class Session:
    specs: tuple[NetSpec, ...]
    config: Config
    board: Board
    runner: Runner
    sinks: tuple = field(default_factory=tuple)
    started: float = field(default_factory=time.perf_counter)

    def finish(self, status: str) -> None:
        """Stop the workers and close every recorder with an end line."""
        self.runner.stop()
        self.runner.join(timeout=10)
        elapsed = time.perf_counter() - self.started
        for sink in self.sinks:
            sink.end(status, elapsed)


def open_session(specs: tuple[NetSpec, ...], data: Dataset, config: Config,
                 record: Path | None = None, csv: Path | None = None) -> Session:
    board = Board(specs, config.n_epochs)
    sinks = []
    if record is not None:
        sinks.append(JsonlRecorder(record, run_header(specs, config, data.name, data.sizes())))
    if csv is not None:
        sinks.append(CsvRecorder(csv, specs))
    runner = Runner.for_training(specs, data, config, board, tuple(sinks))
    return Session(specs=specs, config=config, board=board, runner=runner, sinks=tuple(sinks))
