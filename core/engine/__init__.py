"""The numba engine: kernels (two sets, SIMD and portable), their cache, the net layout and its numpy reference."""
