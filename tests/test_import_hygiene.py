"""What importing vgrad drags in, checked in a fresh interpreter (as tconbeer/harlequin does).

The core is numerics only: no UI library, whichever of its modules is imported. `import vgrad`
and `import vgrad.core` stay light: no torch, textual or numba until something needs them.
"""

import importlib.util
import json
import subprocess
import sys

import pytest

UI = {"textual", "rich", "typer"}
HEAVY = {"torch", "textual", "numba"}

EVERY_CORE_MODULE = """
import pkgutil, vgrad.core
for module in pkgutil.walk_packages(vgrad.core.__path__, "vgrad.core."):
    __import__(module.name)
"""


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def top_level_modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running `code`."""
    return {name.split(".")[0] for name in modules_after(code)}


def test_no_core_module_imports_a_ui_library_the_cli_or_the_bench():
    loaded = modules_after(EVERY_CORE_MODULE)
    top = {name.split(".")[0] for name in loaded}
    assert "numba" in top  # the walk did reach the kernels
    assert top & UI == set()
    assert {name for name in loaded if name.startswith(("vgrad.tui", "vgrad.bench"))} == set()


def test_import_vgrad_core_is_light():
    assert top_level_modules_after("import vgrad.core") & HEAVY == set()


def test_import_vgrad_is_light():
    spec = importlib.util.find_spec("vgrad")
    if spec is None or spec.origin is None:
        pytest.skip("vgrad is still a bare namespace package (no vgrad/__init__.py yet)")
    assert top_level_modules_after("import vgrad") & HEAVY == set()

