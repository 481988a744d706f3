"""The CPU numba compiles for, and the SIMD path the hand-written kernels take on it.

The path follows numba's target, not the host: NUMBA_CPU_NAME and NUMBA_CPU_FEATURES
(LLVM's comma-separated "+feature,-feature" list, as llvmlite's
get_host_cpu_features().flatten() writes it) pick it, so an AVX2 or a 128-bit build can be
compiled, tested and timed on an AVX-512 host. numba's cache keys every entry by CPU
name and features, so the paths' compiled kernels never mix. VGRAD_SIMD=0 takes no path at
all: the engine runs its portable kernels (kernel_set.py).
"""

from __future__ import annotations

import os

import llvmlite.binding as llvm
import numba

from vgrad.core.engine.numba_private import host_cpu_features

PATHS = ("avx512", "avx2", "128-bit")  # widest first


def target_cpu() -> str:
    """The CPU name numba compiles for."""
    return numba.config.CPU_NAME or llvm.get_host_cpu_name()


def target_features() -> frozenset[str]:
    """The features numba compiles for (those switched on), as numba itself chooses them."""
    flat = numba.config.CPU_FEATURES
    if flat is None:
        flat = host_cpu_features()
    return frozenset(item[1:] for item in flat.split(",") if item.startswith("+"))


def simd_path(features: frozenset[str]) -> str | None:
    """"avx512" (32 registers of 512 bits), "avx2" (16 of 256, with FMA), "128-bit" (NEON's 32
    or SSE's 16 registers, with fused multiply-add), or None: no fused multiply-add in
    hardware, where the engine stays on BLAS."""
    if "avx512f" in features:
        return "avx512"
    if "avx2" in features and "fma" in features:
        return "avx2"
    if "neon" in features or "fma" in features:
        return "128-bit"
    return None


def features_without(prefixes: tuple[str, ...], flat: str | None = None) -> str:
    """The host's feature string (or `flat`) with every feature starting with one of `prefixes`
    switched off: the NUMBA_CPU_FEATURES that simulates a smaller CPU."""
    if flat is None:
        flat = llvm.get_host_cpu_features().flatten()
    items = [item for item in flat.split(",") if item]
    return ",".join("-" + item[1:] if item[1:].startswith(prefixes) else item for item in items)


# What the targets of each path switch off on an x86 host with AVX-512 (see path_environment).
_SWITCHED_OFF = {"avx512": (), "avx2": ("avx512", "avx10", "amx"), "128-bit": ("avx512", "avx10", "amx", "avx2")}
_CPU = {"avx512": None, "avx2": "haswell", "128-bit": "x86-64"}


def path_environment(path: str) -> dict[str, str]:
    """Environment variables that make numba compile the kernels of `path` on this host (x86
    with AVX-512): haswell without AVX-512 for "avx2"; for "128-bit" the AVX2 and AVX-512
    features off too (FMA kept, as NEON has it). Empty for "avx512": the host itself."""
    if _CPU[path] is None:
        return {}
    return {"NUMBA_CPU_NAME": _CPU[path], "NUMBA_CPU_FEATURES": features_without(_SWITCHED_OFF[path])}


FEATURES = target_features()
PATH = None if os.environ.get("VGRAD_SIMD") == "0" else simd_path(FEATURES)  # VGRAD_SIMD=0: no SIMD path
VECTOR_BITS = {"avx512": 512, "avx2": 256}.get(PATH or "", 128)
REGISTERS = 32 if PATH == "avx512" or "neon" in FEATURES else 16  # vector registers
