"""The kernels' named-tuple arguments: built to the layout's sizes, and cached across processes."""

import json
import subprocess
import sys

import numpy as np
import pytest

from vgrad.core.engine.net import make_layout
from vgrad.core.engine.structs import make_buffers
from vgrad.core.spec import parse_net


def test_buffers_are_sized_by_the_layout_and_the_batch():
    layout = make_layout(parse_net("12-6-5-4"))
    buffers = make_buffers(layout, 7, 3, np.float32, thin=True, panel_scratch=11)
    assert {name: a.size for name, a in buffers._asdict().items()} == {
        "zs": 7 * 15, "acts": 7 * 15, "deltas": 7 * 15, "grad_acts": 7 * 15, "grads": layout.n_params,
        "xb": 3 * 12, "yb": 3 * 4, "transposes": 6 * 3, "panel_scratch": 11, "speeds": 2}
    assert buffers.grads.dtype == np.float32 and buffers.speeds.dtype == np.float64
    assert not buffers.grads.any()
    assert make_buffers(layout, 7, 3, np.float32, thin=False).transposes.size == 0


WARM_UP = """
import json
from vgrad.core.engine import kernels
from vgrad.core.train.warmup import compile_kernels
compile_kernels("float64")
print(json.dumps({name: sum(getattr(kernels, name).stats.cache_misses.values())
                  for name in ("sgd_steps", "update", "probe_summary", "_forward", "_backprop")}))
"""


@pytest.mark.slow
def test_kernels_taking_named_tuples_load_from_the_cache_in_a_fresh_process():
    """The second process compiles nothing (jitclass or structref arguments would recompile)."""
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", WARM_UP], capture_output=True, text=True, check=True)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == dict.fromkeys(
        ("sgd_steps", "update", "probe_summary", "_forward", "_backprop"), 0)
