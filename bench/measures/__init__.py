"""What the bench measures, a module each: the experiment, the command, SIMD paths, watch cost, memory."""
