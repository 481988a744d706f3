"""Keep BLAS to one thread per worker: 4 nets × N BLAS threads would fight over the cores."""

from __future__ import annotations

_limiter = None


def limit_blas_threads() -> None:
    """Limit every loaded BLAS (numpy's and SciPy's, which numba uses) to one thread."""
    global _limiter
    import scipy.linalg.cython_blas  # noqa: F401  (load numba's BLAS so the limit reaches it)
    from threadpoolctl import threadpool_limits
    _limiter = threadpool_limits(limits=1, user_api="blas")
