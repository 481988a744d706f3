"""What a user waits for, each timed in a fresh process as a user starts it: the whole
headless command, numba's cold compile, and a warm start to the first step.

These are the bench's only launches of the CLI (`vgrad.tui`): core never starts it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

LAUNCH = "import sys; sys.argv[0] = 'vgrad-tui'; from vgrad.tui import main; main()"

COLD = "from vgrad.core.train.warmup import compile_kernels; compile_kernels('float64')"

FIRST_STEP = """
import sys, time
launched = float(sys.argv[1])
import vgrad.tui.cli  # everything the command imports
from vgrad.core.config import Config
from vgrad.core.data import load_dataset
from vgrad.core.lab.presets import DEFAULT_PRESET, preset_nets
from vgrad.core.run.session import open_session
from vgrad.core.spec import parse_nets
from vgrad.core.train.warmup import compile_kernels
compile_kernels("float64")
data = load_dataset("mnist")
specs = tuple(s.with_input(data.n_inputs, data.n_classes) for s in parse_nets(preset_nets(DEFAULT_PRESET)))
session = open_session(specs, data, Config())
session.runner.start()
while any(net.latest is None for net in session.board.snapshot().nets):
    time.sleep(0.0005)
print(time.time() - launched)
session.runner.stop()
session.runner.join()
"""


def _run(what: str, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, stderr=subprocess.PIPE, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed: {result.stderr.strip()[-500:]}")
    return result


def command_seconds(epochs: int | None) -> float:
    """Wall time of `vgrad-tui --no-ui` (the default three nets) in a fresh process, warm cache."""
    args = [sys.executable, "-c", LAUNCH, "--no-ui"]
    if epochs is not None:
        args += ["--epochs", str(epochs)]
    start = time.perf_counter()
    _run("vgrad-tui --no-ui", args, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cold_compile_seconds() -> float:
    """Seconds for a fresh process to import vgrad and compile the float64 kernels from nothing
    (a fresh NUMBA_CACHE_DIR)."""
    with tempfile.TemporaryDirectory(prefix="vgrad-bench-numba-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        start = time.perf_counter()
        _run("cold compile", [sys.executable, "-c", COLD], env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def warm_first_step_seconds() -> float:
    """Seconds from launching a process to every default net's first step on the board (warm cache)."""
    launched = time.time()
    result = _run("warm start", [sys.executable, "-c", FIRST_STEP, repr(launched)], stdout=subprocess.PIPE)
    return float(result.stdout.strip().splitlines()[-1])
