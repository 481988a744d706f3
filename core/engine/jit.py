"""Options every numba kernel is compiled with, where their cache lives, and typed constants.

numba checks a cached kernel only against the file it is defined in, so `sgd_steps` in
kernels.py would keep a stale copy of a changed kernel from thin_products.py. The cache
therefore lives in a directory named for a hash of every kernel module's source, under
`$NUMBA_CACHE_DIR`, else `~/.cache/vgrad/numba`, else (neither writable) the temporary
directory. Starting touches the directory in use; siblings unused for 30 days are removed,
but only those vgrad made: each holds the MARKER file written when vgrad created it
(`$NUMBA_CACHE_DIR` may be shared with other projects, or hold anything at all).
"""

import hashlib
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

STALE_SECONDS = 30 * 24 * 3600
MARKER = "vgrad-numba-cache"  # written into every cache directory vgrad creates; nothing else is pruned


def source_hash() -> str:
    """16 hex digits of a hash over the source of every module in engine/ (every kernel lives there)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
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


def _writable(folder: Path) -> bool:
    """Create `folder` if needed (marking it as vgrad's) and check that files can be made in it."""
    try:
        try:
            folder.mkdir(parents=True)
            (folder / MARKER).write_text("numba cache of vgrad's kernels; vgrad may remove this folder\n")
        except FileExistsError:
            pass
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


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
    for base in _candidate_bases():
        folder = base / digest
        if _writable(folder):
            os.utime(folder)
            _prune_siblings(folder)
            return folder
    return Path(tempfile.mkdtemp(prefix="vgrad-numba-"))  # caches nothing for long, but is right


numba.config.CACHE_DIR = str(cache_dir())  # read when each kernel below is decorated

JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
INLINE = dict(inline="always", **JIT)
# Constants passed to other jitted functions as these numpy scalars are typed int64 and bool,
# not Literal[int](0) / Literal[bool](True): numba would compile a separate copy of the
# callee for every literal value (that alone cost seconds of cold compile).
I0, I1 = np.int64(0), np.int64(1)
YES, NO = np.bool_(True), np.bool_(False)
