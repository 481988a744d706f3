"""examples/torch_book_net.py without PyTorch: one line saying how to get it, no traceback."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "torch_book_net.py"


def test_the_torch_example_without_torch_exits_with_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # importing torch now fails, as when it is not installed
    with pytest.raises(SystemExit) as leaving:
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert str(leaving.value.code) == 'this example needs PyTorch: pip install -e ".[torch]" (from a checkout of vgrad)'
