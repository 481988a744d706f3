"""Options every numba kernel is compiled with, where their cache lives, and typed constants.

numba checks a cached kernel only against the file it is defined in, so `sgd_steps` in
kernels.py would keep a stale copy of a changed kernel from thin_products.py. The cache
therefore lives in a directory named for a hash of every kernel module's source:
`$NUMBA_CACHE_DIR/<hash>` when that is set, else `~/.cache/vgrad/numba/<hash>`.
"""

import hashlib
import os
from pathlib import Path

import numba
import numpy as np

KERNEL_MODULES = ("jit", "simd", "vector_math", "panels", "thin_products", "kernels")


def cache_dir() -> Path:
    """numba's cache directory for this exact version of the kernels."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in KERNEL_MODULES:
        digest.update((here / f"{name}.py").read_bytes())
    base = os.environ.get("NUMBA_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vgrad" / "numba"
    return Path(base) / digest.hexdigest()[:16]


numba.config.CACHE_DIR = str(cache_dir())  # read when each kernel below is decorated

JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
INLINE = dict(inline="always", **JIT)
# Constants passed to other jitted functions as these numpy scalars are typed int64 and bool,
# not Literal[int](0) / Literal[bool](True): numba would compile a separate copy of the
# callee for every literal value (that alone cost seconds of cold compile).
I0, I1 = np.int64(0), np.int64(1)
YES, NO = np.bool_(True), np.bool_(False)
