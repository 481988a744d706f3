"""Options every numba kernel is compiled with, where their cache lives, and typed constants.

numba checks a cached kernel only against the file it is defined in, so `sgd_steps` in
kernels.py would keep a stale copy of a changed kernel from thin_products.py. The cache
therefore lives in a directory named for a hash of every kernel module's source, under
`$NUMBA_CACHE_DIR`, else `~/.cache/vgrad/numba`, else (neither writable) the temporary
directory. Starting touches the directory in use; siblings unused for 30 days are removed,
but only those vgrad made: each holds the MARKER file written when vgrad created it
(`$NUMBA_CACHE_DIR` may be shared with other projects, or hold anything at all).
A base that cannot take a probe write or lacks CACHE_ROOM free bytes is skipped; a cache that
still fails a compile (disk filled since, corrupt file) is healed or dropped by
`survive_cache_failure`. Either way stderr gets one line saying so.

Every kernel is decorated with `kernel` (or `inline_kernel`): numba's JIT options, and a cache
whose data files are named for their entries (KeyedCacheFile), so that processes compiling at
once for other dtypes or other SIMD paths can never swap each other's code.
"""

import hashlib
import os
import pickle
import shutil
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numba
import numpy as np
from numba import njit
from numba.core.caching import IndexDataCacheFile

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


def _candidate_bases() -> list[Path]:
    bases = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        bases.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    try:
        bases.append(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vgrad" / "numba")
    except RuntimeError:  # no home directory to be found
        pass
    bases.append(Path(tempfile.gettempdir()) / f"vgrad-numba-{os.getuid() if hasattr(os, 'getuid') else 0}")
    return bases


def _unusable(folder: Path) -> str | None:
    """Create `folder` if needed (marking it as vgrad's); why numba could not cache in it, or None."""
    try:
        try:
            folder.mkdir(parents=True)
            (folder / MARKER).write_text("numba cache of vgrad's kernels; vgrad may remove this folder\n")
        except FileExistsError:
            pass
        free = shutil.disk_usage(folder).free
        if free < CACHE_ROOM:
            return f"{free // 2**20} MB free, needs {CACHE_ROOM // 2**20}"
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
        return None
    except OSError as exc:
        return exc.strerror or str(exc)


def _made_by_vgrad(folder: Path) -> bool:
    """A directory (not a link to one) holding vgrad's marker file (not a link either)."""
    return stat.S_ISDIR(folder.lstat().st_mode) and stat.S_ISREG((folder / MARKER).lstat().st_mode)


def _prune_siblings(folder: Path) -> None:
    """Remove the caches of other kernel versions, made by vgrad, that no start has touched for 30 days."""
    now = time.time()
    for sibling in folder.parent.iterdir():
        try:
            if sibling != folder and _made_by_vgrad(sibling) and now - sibling.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(sibling, ignore_errors=True)
        except OSError:
            pass


def cache_dir() -> Path:
    """numba's cache directory for this exact version of the kernels (the first writable base)."""
    digest = source_hash()
    skipped = None
    for base in _candidate_bases():
        folder = base / digest
        reason = _unusable(folder)
        if reason is None:
            if skipped:
                _warn(f"numba cache at {skipped[0]} unusable ({skipped[1]}); using {folder}")
            os.utime(folder)
            _prune_siblings(folder)
            return folder
        skipped = skipped or (folder, reason)
    folder = Path(tempfile.mkdtemp(prefix="vgrad-numba-"))  # caches nothing for long, but is right
    assert skipped is not None  # the temporary directory is always a candidate
    _warn(f"numba cache at {skipped[0]} unusable ({skipped[1]}); using {folder} for this run")
    return folder


def _from_numba_cache(exc: BaseException) -> bool:
    """Whether `exc` was raised inside numba's cache code (loading or saving a cached kernel)."""
    return any(Path(frame.filename).parts[-3:] == ("numba", "core", "caching.py")
               for frame in traceback.extract_tb(exc.__traceback__))


def _loads(path: Path) -> None:
    """Unpickle a numba cache file the way numba does (an index is a version, then its pickle)."""
    with open(path, "rb") as f:
        if path.suffix == ".nbi":
            pickle.load(f)
        pickle.loads(f.read())


def _remove_corrupt(folder: Path) -> int:
    """Delete the cache files that no longer unpickle, only in a folder vgrad made; how many went."""
    try:
        if not _made_by_vgrad(folder):
            return 0
    except OSError:
        return 0
    removed = 0
    for path in folder.rglob("*.nb[ic]"):
        try:
            _loads(path)
        except Exception:  # any garbling: truncated, flipped bytes, a foreign pickle
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def engine_dispatchers() -> dict:
    """{"vgrad.core.engine.kernels.sgd_steps": its dispatcher, …}: every kernel of the engine
    modules imported so far, each once (under the module that defines it)."""
    from numba.core.dispatcher import Dispatcher

    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(__package__ + ".") and module is not None:
            for value in vars(module).values():
                if isinstance(value, Dispatcher):
                    found[f"{value.py_func.__module__}.{value.py_func.__name__}"] = value
    return found


def is_cached(dispatcher, args: tuple) -> bool:
    """Whether numba's cache holds `dispatcher`'s code for `args` on this target (the code it
    would load instead of compiling). False when the cache is off."""
    from numba.core.caching import FunctionCache

    cache = dispatcher._cache
    if not isinstance(cache, FunctionCache):
        return False
    signature = tuple(dispatcher.typeof_pyval(arg) for arg in args)
    key = cache._index_key(signature, dispatcher.targetctx.codegen())
    return key in cache._cache_file._load_index()


def shares_cache(dispatcher) -> bool:
    """Whether another process compiling `dispatcher` saves where this one loads from: its cache is
    on and in the folder named for the kernel sources (every process finds that one; the last
    resort, a temporary folder of this process's own, is not)."""
    from numba.core.caching import FunctionCache

    return isinstance(dispatcher._cache, FunctionCache) and Path(numba.config.CACHE_DIR).name == source_hash()


def _disable_cache() -> None:
    """Stop every engine kernel loading from or saving to numba's cache for the rest of this process."""
    from numba.core.caching import NullCache

    for dispatcher in engine_dispatchers().values():
        dispatcher._cache = NullCache()


def survive_cache_failure(call: Callable[[], T]) -> T:
    """Run `call` (which compiles kernels); if numba's cache breaks it, remove vgrad's corrupt cache
    files and retry, else warn in one line and retry without the cache. Other errors pass through."""
    folder, healed, disabled = Path(numba.config.CACHE_DIR), False, False
    while True:
        try:
            return call()
        except Exception as exc:
            if disabled or not _from_numba_cache(exc):
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


numba.config.CACHE_DIR = str(cache_dir())  # read when each kernel below is decorated

JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
INLINE = dict(inline="always", **JIT)


class KeyedCacheFile(IndexDataCacheFile):
    """numba's cache file of one function, each entry's data in a file named for its key.

    numba numbers the data files 1, 2, … in the order entries are added; two processes adding
    different entries at once (float32 and float64, or two SIMD paths) both wrote file 1, and
    the index could then give one of them the other's code, for good. Named for the key, a
    data file holds only its own entry. It is written whole before the index names it; an
    entry lost to a simultaneous index write is compiled again on a later run.
    """

    def save(self, key, data) -> None:
        name = f"{self._index_name[:-len('.nbi')]}.{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}.nbc"
        self._save_data(name, data)
        overloads = self._load_index()
        if overloads.get(key) != name:
            overloads[key] = name
            self._save_index(overloads)


def _keyed(dispatcher: T) -> T:
    dispatcher._cache._cache_file.__class__ = KeyedCacheFile  # type: ignore[attr-defined]
    return dispatcher


def kernel(function: Callable) -> Callable:
    """@njit with JIT's options and a KeyedCacheFile."""
    return _keyed(njit(**JIT)(function))


def inline_kernel(function: Callable) -> Callable:
    """@njit with INLINE's options (inlined into the kernels that call it) and a KeyedCacheFile."""
    return _keyed(njit(**INLINE)(function))


# Constants passed to other jitted functions as these numpy scalars are typed int64 and bool,
# not Literal[int](0) / Literal[bool](True): numba would compile a separate copy of the
# callee for every literal value (that alone cost seconds of cold compile).
I0, I1 = np.int64(0), np.int64(1)
YES, NO = np.bool_(True), np.bool_(False)
