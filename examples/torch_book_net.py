"""The book's 784-30-30-30-30-10 sigmoid net in PyTorch, trained on vgrad's built-in MNIST subset
and watched by `vgrad.watch`: the same numbers vgrad's own engine shows, from your own loop.

    python examples/torch_book_net.py run.jsonl      # terminal 1: trains, writes run.jsonl
    vgrad-tui watch run.jsonl                        # terminal 2: follows it live

The net is network2's (Nielsen, NNDL ch. 5): sigmoid on every layer, the cross-entropy cost
C = −(1/n) Σ_x Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)] (so δ^L = a − y), W ~ N(0, 1/n_in),
b ~ N(0, 1), mini-batch SGD (η 0.1, batch 10) with L2 weight decay λ = 5 on the weights.
`speed` of hidden layer l is then ‖∂C/∂b^l‖ on the batch: the book's s_l.
"""

from __future__ import annotations

import argparse
import math
import sys

try:
    import torch
except ModuleNotFoundError:
    sys.exit('this example needs PyTorch: pip install -e ".[torch]" (from a checkout of vgrad)')

import vgrad
from vgrad.core.data import load_dataset

SIZES = (784, 30, 30, 30, 30, 10)
ETA, LMBDA, BATCH = 0.1, 5.0, 10


def book_net(sizes=SIZES, params=None, dtype=torch.float64, seed: int = 0) -> torch.nn.Sequential:
    """Linear+Sigmoid layers (the output's sigmoid is in the cost); book init, or `params`, a
    list of (W, b) numpy arrays per layer (e.g. vgrad's engine's, for a like-for-like check)."""
    generator = torch.Generator().manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(n_in, n_out, dtype=dtype)
        with torch.no_grad():
            if params is None:
                linear.weight.normal_(0.0, 1.0 / math.sqrt(n_in), generator=generator)
                linear.bias.normal_(0.0, 1.0, generator=generator)
            else:
                linear.weight.copy_(torch.as_tensor(params[index][0]))
                linear.bias.copy_(torch.as_tensor(params[index][1]))
        layers.append(linear)
        if index < len(sizes) - 2:
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def book_cost(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The book's cross-entropy on sigmoid outputs, the batch mean (L2 is the optimiser's weight decay)."""
    logits = model(x)
    targets = torch.nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / len(x)


def train(path: str, epochs: int = 3, every: int = 10, overwrite: bool = False) -> None:
    torch.set_num_threads(1)
    data = load_dataset("mnist")
    x = torch.from_numpy(data.train_x).double()
    y = torch.from_numpy(data.train_y)
    test_x, test_y = torch.from_numpy(data.test_x).double(), torch.from_numpy(data.test_y)
    model = book_net()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    optimizer = torch.optim.SGD([{"params": [m.weight for m in linears], "weight_decay": LMBDA / len(x)},
                                 {"params": [m.bias for m in linears], "weight_decay": 0.0}], lr=ETA)
    generator = torch.Generator().manual_seed(0)
    step = 0
    # recorded at optimizer.step(): s_l, ‖Δθ‖/‖θ‖ per layer, and the saturated sigmoids of each hidden layer
    with vgrad.watch(model, path, optimizer=optimizer, every=every, activations=True, name="book net (PyTorch)",
                     overwrite=overwrite) as watcher:
        for epoch in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            for first in range(0, len(x), BATCH):
                rows = order[first:first + BATCH]
                optimizer.zero_grad()
                loss = book_cost(model, x[rows], y[rows])
                loss.backward()
                with torch.no_grad():   # at each epoch's start (a step every divides, for every ≤ 400)
                    accuracy = (model(test_x).argmax(1) == test_y).double().mean() if first == 0 else None
                optimizer.step()
                watcher.log(step, loss=loss, accuracy=accuracy)   # after the step: to that step's record
                step += 1
            print(f"epoch {epoch + 1}/{epochs} done, {step} steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="the run file to write (follow it with `vgrad-tui watch PATH`)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--every", type=int, default=10, help="record every N-th step")
    parser.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    options = parser.parse_args()
    train(options.path, options.epochs, options.every, options.overwrite)


if __name__ == "__main__":
    main()
