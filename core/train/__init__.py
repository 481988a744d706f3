"""Training a built-in net: the Trainer around the kernels, the experiments it runs, and the warm-up compile."""
