"""What the bench ran on: the CPU, library versions, BLAS, and how busy other processes kept it."""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from vgrad.bench.torch_peer import torch_version


class BackgroundLoad:
    """CPU time other processes used while the bench ran, in cores (Linux /proc; else None).

    A shared machine busy with other work slows every figure; the bench reports it
    rather than hide it."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[int, int, float] | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:8]]
            with open(f"/proc/{os.getpid()}/stat") as own:
                parts = own.read().rsplit(")", 1)[1].split()
            mine = sum(int(v) for v in parts[11:15])  # utime stime cutime cstime
        except (OSError, ValueError, IndexError):
            return None
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        return busy, mine, time.perf_counter()

    def cores(self) -> float | None:
        end = self._sample()
        if self.start is None or end is None or end[2] <= self.start[2]:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        others = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(0.0, others / ticks / (end[2] - self.start[2]))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The CPU, core count, OS, library versions, BLAS builds and whether the AVX-512 kernels run."""
    import numba
    import scipy
    from threadpoolctl import threadpool_info

    from vgrad.core.engine.simd.lanes import simd_available
    from vgrad.core.engine.simd.target import PATH

    blas = sorted({f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')})"
                   for info in threadpool_info() if info.get("user_api") == "blas"})
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": _cpu_model(), "cores": cpus, "os": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "scipy": scipy.__version__,
            "torch": torch_version(), "blas": blas, "avx512": simd_available() and PATH == "avx512", "simd_path": PATH}
