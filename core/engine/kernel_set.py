"""Which kernel set runs: the SIMD one (simd/products.py) or the portable one (portable.py).

The SIMD kernels are hand-written LLVM (vector types, fused multiply-adds, masked loads) on
numba's extension API; a numba or llvmlite release that changes what they build on would stop
them compiling. So the engine chooses once, when it is imported: the portable set when
VGRAD_SIMD=0, when numba's target has no SIMD path (simd/target.py), or when products.self_test,
which runs every intrinsic once, does not compile; else the SIMD set. Choosing the portable set
for either of the first and last reasons prints one line on stderr.
"""

from __future__ import annotations

import os
import sys

import numpy as np

SWITCH = "VGRAD_SIMD"  # "0": the portable kernels


def _warn(message: str) -> None:
    print(f"vgrad: {message}", file=sys.stderr)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160] if text else ''}".rstrip(": ")


def simd_compiles() -> BaseException | None:
    """None when the SIMD kernels compile and give finite numbers here, else what went wrong."""
    try:
        from vgrad.core.engine.jit import survive_cache_failure
        from vgrad.core.engine.simd import products

        values = np.linspace(0.1, 0.9, 96)
        total = survive_cache_failure(lambda: products.self_test(values, np.zeros(96)))
        if not np.isfinite(total):
            return ArithmeticError(f"self_test gave {total}")
        return None
    except Exception as exc:  # anything at all: the portable kernels run instead
        return exc


def choose() -> bool:
    """True for the SIMD kernel set, False for the portable one (see the module docstring)."""
    from vgrad.core.engine.simd.target import PATH

    if os.environ.get(SWITCH) == "0":
        _warn(f"{SWITCH}=0: running the portable kernels (numba loops and BLAS), not the SIMD ones")
        return False
    if PATH is None:
        return False
    failure = simd_compiles()
    if failure is not None:
        _warn(f"the SIMD kernels do not compile here ({_first_line(failure)}); running the portable kernels")
        return False
    return True


SIMD = choose()
