"""No import circles in vgrad: between modules, and between folders (a lower folder never
imports a higher one). Read from the sources (ast), so nothing is imported to check it; every
import counts, one inside a function too, except those under `if TYPE_CHECKING:`."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGES = ("vgrad", "vgrad.core", "vgrad.tui", "vgrad.bench")   # package-dir roots (pyproject.toml)


def package_folders() -> dict[str, Path]:
    """Each root package's folder, as the installed (editable) package maps it."""
    folders = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        folders[name] = Path(next(iter(spec.submodule_search_locations)))
    return folders


def modules() -> dict[str, tuple[Path, bool]]:
    """Every vgrad module: its file and whether it is a package's __init__."""
    found = {}
    for package, folder in package_folders().items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join([package, *(parts[:-1] if is_package else parts)])
            found.setdefault(name, (path, is_package))
    return found


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(inner for child in node.body for inner in ast.walk(child))
    return guarded


def import_graph(known: dict[str, tuple[Path, bool]]) -> dict[str, set[str]]:
    """Module → the vgrad modules it imports (`from a.b import c` is a.b.c when c is a module)."""
    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, (path, is_package) in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        targets: set[str | None] = set()
        for node in ast.walk(tree):
            if node in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(owner(alias.name) for alias in node.names if alias.name.startswith("vgrad"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name if is_package else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        here = here.rpartition(".")[0]
                    base = f"{here}.{base}" if base else here
                if base.startswith("vgrad"):
                    targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else owner(base)
                                   for a in node.names)
        graph[name] = {target for target in targets if target is not None and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The graph's strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def folder_graph(known: dict[str, tuple[Path, bool]], graph: dict[str, set[str]]) -> dict[Path, set[Path]]:
    """Folder → the folders its modules import from, leaving out a folder's own parents and
    subfolders (a package and its subpackages are one part)."""
    def folder(name: str) -> Path:
        return known[name][0].parent

    def related(a: Path, b: Path) -> bool:
        return a == b or a in b.parents or b in a.parents

    folders: dict[Path, set[Path]] = {}
    for name, targets in graph.items():
        here = folder(name)
        folders.setdefault(here, set()).update(folder(t) for t in targets if not related(here, folder(t)))
    return folders


KNOWN = modules()
GRAPH = import_graph(KNOWN)


def test_the_walk_reaches_every_part_and_reads_their_imports():
    parts = {"vgrad.core.record.reader", "vgrad.core.train.experiment", "vgrad.tui.cli", "vgrad.bench.peers"}
    assert parts <= set(GRAPH)
    assert "vgrad.core.record.step" in GRAPH["vgrad.core.record.reader"]
    assert "vgrad.core.train.batchnorm_trainer" in GRAPH["vgrad.core.train.experiment"]


def test_the_cycle_finder_finds_a_circle_and_nothing_else():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_vgrad_module_imports_itself_back():
    assert cycles(GRAPH) == []


def test_no_folder_imports_a_folder_that_imports_it_back():
    top = Path(*next(iter(package_folders().values())).parts[:-1])   # the folder holding core/, tui/, …
    def shown(folder: Path) -> str:
        return folder.relative_to(top).as_posix() if top in folder.parents else str(folder)
    assert cycles({shown(k): {shown(v) for v in vs} for k, vs in folder_graph(KNOWN, GRAPH).items()}) == []
