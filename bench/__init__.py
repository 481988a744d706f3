"""`vgrad.bench`: the engine against its peers, measured in one run on one machine (`vgrad-tui bench`).

Numerics only (no rich, typer or textual). run.py runs it all and names the module of each
step; report.py renders a result for tui/tables/bench.py (rich) and readme_table.py (markdown).

What is measured (net 784-30-30-30-30-10, sigmoid, cross-entropy, L2 weight decay;
one thread; float64 and float32; the same initial weights for every peer):
- examples per second of forward + backward + update, at batch 10 (mini-batch SGD
  on the 4000 training images) and at full batch 1000 (gradient descent on the
  book's 1000 probe images, the speed experiment's step), for
    vgrad   the numba engine (kernels.sgd_steps; kernels.probe_gradient + update),
    numpy   batched numpy, one matmul per layer per batch, features × batch,
    book    the book's network2 algorithm: each example a column vector through
            forward and backprop, ∇b and ∇W summed over the mini-batch, then one update,
    torch   PyTorch CPU (torch.set_num_threads(1)) when it can be imported;
- the machine's dense matmul rate with numpy (n×n, one thread) and the engine's
  full-batch FLOP rate as a share of it (FLOPs: the matrix products only, 2 per
  multiply-add: 4·W + 2·(W − W¹) per example for W weights, W¹ in the first layer);
- the default three-net speed experiment (the book's nets, 500 full-batch epochs),
  headless through the Runner on 1 core and on 2 cores, the same experiment in
  batched numpy on 2 cores, the throughput of two nets on two threads against one,
  and the whole `vgrad-tui --no-ui` command with start-up and a warm cache;
- numba's cold compile (fresh NUMBA_CACHE_DIR, in a subprocess) and a warm start
  to the first step (a subprocess, as a user starts the command).
Before timing anything the engine's gradients and its fused SGD update are checked
against the plain-numpy reference (net.reference_backward), and so are the peers';
a wrong result raises WrongResult and no speed is reported.
"""
