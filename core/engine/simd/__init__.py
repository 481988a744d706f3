"""The SIMD kernel set: hand-written vector kernels on numba's extension API, as wide as numba's target."""
