"""The bench's fresh processes start as a user's would, against this install (warm cache)."""

import subprocess
import sys

import pytest

from vgrad.bench.measures import launch

pytestmark = pytest.mark.slow


def test_the_headless_command_and_a_warm_start_run(mnist):
    assert launch.command_seconds(epochs=1) > 0
    assert launch.warm_first_step_seconds() > 0


def test_the_compile_script_runs():
    """What cold_compile_seconds launches, here with the warm cache (a cold one takes 10–15 s)."""
    result = subprocess.run([sys.executable, "-c", launch.COLD], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_failed_launch_raises_with_its_error():
    with pytest.raises(RuntimeError, match="(?s)boom failed: .*ZeroDivisionError"):
        launch._run("boom", [sys.executable, "-c", "1 / 0"])
