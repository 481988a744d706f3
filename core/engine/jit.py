"""Options every numba kernel is compiled with, where their cache lives, and typed constants.

numba checks a cached kernel only against the file it is defined in, so `sgd_steps` in
kernels.py would keep a stale copy of a changed kernel from thin_products.py. The cache
therefore lives in a folder named for a hash of every kernel module's source, under
`$NUMBA_CACHE_DIR`, else `~/.cache/vgrad/numba`, else the temporary folder, else a fresh private
one. A folder is used only if this user owns it and no one else can write to it (numba unpickles
what it finds there); a base that cannot take a probe write or lacks CACHE_ROOM free bytes is
skipped, with one line on stderr. Each kernel's cache is pointed at that folder by
numba_private.cache_in: importing the engine leaves numba.config as it was.

`prune_stale_caches` (run when a vgrad command starts, never at import) removes the sibling
folders unused for 30 days, but only those vgrad made: each holds the MARKER file written when
vgrad created it (`$NUMBA_CACHE_DIR` may be shared with other projects, or hold anything at
all). A cache that still fails a compile (disk filled since, corrupt file) is healed or dropped
by `survive_cache_failure`.
"""

import hashlib
import os
import pickle
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from numba import njit

from vgrad.core.engine import numba_private

STALE_SECONDS = 30 * 24 * 3600
MARKER = "vgrad-numba-cache"  # written into every cache directory vgrad creates; nothing else is pruned
CACHE_ROOM = 64 * 2**20  # free bytes a base must have: one kernel version's cache takes a few MB per SIMD path
PROBE_BYTES = 64 * 1024  # written (and dropped) to prove the folder takes data, not just a name
T = TypeVar("T")


def _warn(message: str) -> None:
    """One plain line on stderr (the core never prints with rich)."""
    print(f"vgrad: {message}", file=sys.stderr)


def source_hash() -> str:
    """16 hex digits of a hash over the source of every module in engine/ (every kernel lives there)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def private(folder: Path) -> bool:
    """Whether `folder` is a directory (not a link to one) this user owns and no one else can
    write to. Always true where there are no user ids (Windows)."""
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        return False
    return _uid() is None or (info.st_uid == _uid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _candidates() -> list[tuple[Path, Path]]:
    """(folder for these kernels, the outermost folder of it vgrad may create) per base, best first.
    Every folder from that outermost one down must be private."""
    digest = source_hash()
    found = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        folder = Path(os.environ["NUMBA_CACHE_DIR"]) / digest
        found.append((folder, folder))
    try:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        if root.parent.is_dir():  # never a folder under a HOME that does not exist
            found.append((root / "vgrad" / "numba" / digest, root / "vgrad"))
    except RuntimeError:  # no home directory to be found
        pass
    base = Path(tempfile.gettempdir()) / f"vgrad-numba-{_uid() or 0}"
    found.append((base / digest, base))
    return found


def _unusable(folder: Path, outermost: Path) -> str | None:
    """Create `folder` if needed (marking it as vgrad's); why numba could not cache in it, or None."""
    try:
        outermost.parent.mkdir(parents=True, exist_ok=True)
        inner = folder.relative_to(outermost).parts
        levels = [outermost] + [outermost.joinpath(*inner[:i + 1]) for i in range(len(inner))]
        for level in levels:
            try:
                level.mkdir(mode=0o700)
                if level == folder:
                    (folder / MARKER).write_text("numba cache of vgrad's kernels; vgrad may remove this folder\n")
            except FileExistsError:
                pass
            if not private(level):
                return f"{level} is not this user's own (owned by another user, writable by others, or a link)"
        free = shutil.disk_usage(folder).free
        if free < CACHE_ROOM:
            return f"{free // 2**20} MB free, needs {CACHE_ROOM // 2**20}"
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
        return None
    except OSError as exc:
        return exc.strerror or str(exc)


def cache_dir() -> Path:
    """The folder numba caches this exact version of the kernels in: the first usable candidate,
    else a fresh private temporary folder (for this process only)."""
    skipped = None
    for folder, outermost in _candidates():
        reason = _unusable(folder, outermost)
        if reason is None:
            if skipped:
                _warn(f"numba cache at {skipped[0]} unusable ({skipped[1]}); using {folder}")
            os.utime(folder)
            return folder
        skipped = skipped or (folder, reason)
    folder = Path(tempfile.mkdtemp(prefix="vgrad-numba-"))  # caches nothing for long, but is right
    assert skipped is not None  # the temporary directory is always a candidate
    _warn(f"numba cache at {skipped[0]} unusable ({skipped[1]}); using {folder} for this run")
    return folder


def _made_by_vgrad(folder: Path) -> bool:
    """A directory (not a link to one) holding vgrad's marker file (not a link either)."""
    return stat.S_ISDIR(folder.lstat().st_mode) and stat.S_ISREG((folder / MARKER).lstat().st_mode)


def prune_stale_caches(folder: Path | None = None) -> None:
    """Remove the caches of other kernel versions, made by vgrad, that no start has touched for 30
    days: the siblings of `folder` (the engine's cache folder). Run when a command starts."""
    folder = folder or CACHE_FOLDER
    if folder.name != source_hash():  # a private temporary folder has no siblings of ours
        return
    now = time.time()
    try:
        siblings = list(folder.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        try:
            if sibling != folder and _made_by_vgrad(sibling) and now - sibling.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(sibling, ignore_errors=True)
        except OSError:
            pass


def _loads(path: Path) -> None:
    """Unpickle a numba cache file the way numba does (an index is a version, then its pickle)."""
    with open(path, "rb") as f:
        if path.suffix == ".nbi":
            pickle.load(f)
        pickle.loads(f.read())


def _remove_corrupt(folder: Path) -> int:
    """Delete the cache files that no longer unpickle, only in a private folder vgrad made (nothing
    is unpickled from any other); how many went."""
    try:
        if not (_made_by_vgrad(folder) and private(folder)):
            return 0
    except OSError:
        return 0
    removed = 0
    for path in folder.rglob("*.nb[ic]"):
        try:
            if not private(path.parent):
                continue
            _loads(path)
        except Exception:  # any garbling: truncated, flipped bytes, a foreign pickle
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def engine_dispatchers() -> dict:
    """{"vgrad.core.engine.kernels.sgd_steps": its dispatcher, …}: every kernel of the engine
    modules imported so far, each once (under the module that defines it)."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(__package__ + ".") and module is not None:
            for value in vars(module).values():
                if numba_private.is_dispatcher(value):
                    found[f"{value.py_func.__module__}.{value.py_func.__name__}"] = value
    return found


def is_cached(dispatcher, args: tuple) -> bool:
    """Whether numba's cache holds `dispatcher`'s code for `args` on this target (the code it
    would load instead of compiling). False when the cache is off."""
    return numba_private.is_cached(dispatcher, args)


def shares_cache(dispatcher) -> bool:
    """Whether another process compiling `dispatcher` saves where this one loads from: its cache is
    on and in the folder named for the kernel sources (every process finds that one; the last
    resort, a temporary folder of this process's own, is not)."""
    folder = numba_private.cache_folder(dispatcher)
    if folder is None:
        return False
    return source_hash() in Path(folder).parts or not Path(folder).is_relative_to(CACHE_FOLDER)


def _disable_cache() -> None:
    """Stop every engine kernel loading from or saving to numba's cache for the rest of this process."""
    for dispatcher in engine_dispatchers().values():
        numba_private.disable_cache(dispatcher)


def survive_cache_failure(call: Callable[[], T], folder: Path | None = None) -> T:
    """Run `call` (which compiles kernels); if numba's cache breaks it, remove vgrad's corrupt cache
    files and retry, else warn in one line and retry without the cache. Other errors pass through."""
    folder, healed, disabled = folder or CACHE_FOLDER, False, False
    while True:
        try:
            return call()
        except Exception as exc:
            if disabled or not numba_private.raised_by_cache(exc):
                raise
            reason = f"{type(exc).__name__}: {exc}"
        if not healed:
            healed = True
            removed = _remove_corrupt(folder)
            if removed:
                _warn(f"numba cache at {folder}: removed {removed} corrupt file(s) ({reason}); recompiling them")
                continue
        _warn(f"numba cache at {folder} unusable ({reason}); compiling without it")
        _disable_cache()
        disabled = True


CACHE_FOLDER = cache_dir()

JIT = dict(nogil=True, fastmath=False, error_model="numpy")  # and a cache in CACHE_FOLDER (_cached)
INLINE = dict(inline="always", **JIT)


def variant() -> str:
    """The subfolder of CACHE_FOLDER for kernels decorated now, named for what their compiled code
    depends on beyond their own source, which numba's cache keys do not cover: the kernel set the
    engine chose (kernel_set.py; "simd" while it is choosing, when only the SIMD kernels and
    helpers free of the choice are decorated) and whether numba's BLAS bridge is there (blas.py)."""
    chosen = sys.modules.get(f"{__package__}.kernel_set")
    kernel_set = "portable" if chosen is not None and getattr(chosen, "SIMD", True) is False else "simd"
    return f"{kernel_set}-{'blas' if numba_private.hook('blas') is not None else 'loops'}"


def _cached(dispatcher: T) -> T:
    return numba_private.cache_in(dispatcher, str(CACHE_FOLDER / variant()))


def kernel(function: Callable) -> Callable:
    """@njit with JIT's options, cached in CACHE_FOLDER / variant() (data files named for their keys)."""
    return _cached(njit(**JIT)(function))


def inline_kernel(function: Callable) -> Callable:
    """@njit with INLINE's options (inlined into the kernels that call it), cached like `kernel`."""
    return _cached(njit(**INLINE)(function))


# Constants passed to other jitted functions as these numpy scalars are typed int64 and bool,
# not Literal[int](0) / Literal[bool](True): numba would compile a separate copy of the
# callee for every literal value (that alone cost seconds of cold compile).
I0, I1 = np.int64(0), np.int64(1)
YES, NO = np.bool_(True), np.bool_(False)
