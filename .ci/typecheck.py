"""mypy on the modules [tool.mypy] lists, read as the installed package `vgrad` names them.

The editable install maps folders to packages with an import hook (package-dir: api/ is
`vgrad`, core/ is `vgrad.core`, ...), and mypy does not run import hooks, so it reads the
sources through a temporary tree of links shaped like the installed package.
Usage: python .ci/typecheck.py [more mypy options]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: mypy brings tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def link_tree(into: Path, package_dir: dict[str, str]) -> None:
    """into/vgrad/... as pyproject's package-dir lays the package out, every entry a link."""
    top = into / "vgrad"
    top.mkdir()
    for entry in (ROOT / package_dir["vgrad"]).iterdir():
        (top / entry.name).symlink_to(entry)
    for package, folder in package_dir.items():
        if package.count(".") == 1:
            (top / package.split(".", 1)[1]).symlink_to(ROOT / folder)


def source_path(line: str, package_dir: dict[str, str]) -> str:
    """A report line with its path as in the checkout (core/spec.py, not vgrad/core/run/spec.py)."""
    for package, folder in sorted(package_dir.items(), key=lambda item: -len(item[0])):
        prefix = package.replace(".", "/") + "/"
        if line.startswith(prefix):
            return folder + "/" + line[len(prefix):]
    return line


def main() -> int:
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    with tempfile.TemporaryDirectory(prefix="vgrad-mypy-") as tree:
        link_tree(Path(tree), package_dir)
        env = {**os.environ, "MYPYPATH": tree}
        command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                   "--cache-dir", str(ROOT / ".mypy_cache"), *sys.argv[1:]]
        done = subprocess.run(command, cwd=tree, env=env, stdout=subprocess.PIPE, text=True)
    for line in done.stdout.splitlines():
        print(source_path(line, package_dir))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
