"""The bench's measurements, one module each: the experiment, the command, the SIMD paths, watch's cost, accuracy, memory."""
