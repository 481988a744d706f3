"""The least an exact watcher can pay per record, measured beside vgrad.watch in the bench.

Two floors, each reading what a record needs and nothing more (no layers, no file):
- TorchFloor: torch's own ops, as vgrad.watch reads: ‖∂L/∂θ‖ by one foreach norm; with an
  optimizer, θ copied (one allocation) with ‖θ‖ before its step, Δθ = θ_before − θ_after in
  place of the copy and ‖Δθ‖ after it.
- FusedFloor: hand-fused kernels that read each value once and accumulate in float64: Σg²;
  θ copied in the same pass as Σθ²; Σ(θ_after − θ_before)² without writing Δθ. No watcher reading
  through torch goes below it, whatever ops it picks. These kernels are the bench's: vgrad.watch
  does not compile numba code in the process it watches (docs/watch.md).
Each floor also keeps the seconds spent inside its own calls (perf_counter), per record: a
direct figure, free of the windows' noise.
"""

from __future__ import annotations

import time

import numba
import numpy as np

_FLAGS = {"reassoc", "contract"}   # vectorised sums; inf and NaN keep their meaning


@numba.njit(nogil=True, fastmath=_FLAGS)
def _squares(a):
    """Σ a_i², in float64."""
    total = 0.0
    for i in range(a.size):
        value = np.float64(a[i])
        total += value * value
    return total


@numba.njit(nogil=True, fastmath=_FLAGS)
def _copy_squares(a, out):
    """out = a, and Σ a_i², in one pass."""
    total = 0.0
    for i in range(a.size):
        out[i] = a[i]
        value = np.float64(a[i])
        total += value * value
    return total


@numba.njit(nogil=True, fastmath=_FLAGS)
def _change_squares(a, b):
    """Σ (a_i − b_i)², Δ never written."""
    total = 0.0
    for i in range(a.size):
        change = np.float64(a[i]) - np.float64(b[i])
        total += change * change
    return total


class _Floor:
    """A floor's schedule: its log at every `every`-th step and, given an optimizer, its two hooks
    around every `every`-th step; `spent`: seconds inside them, per record."""

    def __init__(self, torch, model, every: int, optimizer=None) -> None:
        self._torch = torch
        self._params = list(model.parameters())
        self._every = every
        self._steps = 0
        self._copy = None
        self.spent: list[float] = []
        if optimizer is not None:
            optimizer.register_step_pre_hook(self._before)
            optimizer.register_step_post_hook(self._after)

    def log(self, step: int, loss=None) -> None:
        if step % self._every == 0:
            start = time.perf_counter()
            self.read_gradients()
            self.spent.append(time.perf_counter() - start)

    def _before(self, optimizer, args, kwargs) -> None:
        self._steps += 1
        if (self._steps - 1) % self._every:
            return
        start = time.perf_counter()
        self.read_gradients()
        self._copy = self.copy_parameters()
        self._started = time.perf_counter() - start

    def _after(self, optimizer, args, kwargs) -> None:
        if self._copy is not None:
            start = time.perf_counter()
            self.read_change(self._copy)
            self._copy = None
            self.spent.append(self._started + time.perf_counter() - start)

    def read_gradients(self) -> list:
        """‖∂L/∂θ‖ (or its square) per parameter."""
        raise NotImplementedError

    def copy_parameters(self) -> list:
        """θ's copy, one per parameter, after reading ‖θ‖ (or its square)."""
        raise NotImplementedError

    def read_change(self, copy: list) -> list:
        """‖θ_after − θ_before‖ (or its square) per parameter, from `copy` (θ before)."""
        raise NotImplementedError


class TorchFloor(_Floor):
    """torch's own ops alone (see the module)."""

    def read_gradients(self) -> list:
        return self._torch._foreach_norm([p.grad for p in self._params])

    def copy_parameters(self) -> list:
        torch = self._torch
        with torch.no_grad():
            flat = torch.cat([p.reshape(-1) for p in self._params])
        copy = list(flat.split([p.numel() for p in self._params]))
        torch._foreach_norm(copy)
        return copy

    def read_change(self, copy: list) -> list:
        torch = self._torch
        with torch.no_grad():
            torch._foreach_sub_(copy, [p.reshape(-1) for p in self._params])
        return torch._foreach_norm(copy)


class FusedFloor(_Floor):
    """Each value read once, by fused kernels (see the module); the bench's float32 CPU model."""

    def __init__(self, torch, model, every: int, optimizer=None) -> None:
        super().__init__(torch, model, every, optimizer)
        self._sizes = [p.numel() for p in self._params]
        probe = np.zeros(2, np.float32)   # compiled now, not in a timed window
        _squares(probe), _copy_squares(probe, probe.copy()), _change_squares(probe, probe)

    def read_gradients(self) -> list:
        return [_squares(p.grad.view(-1).numpy()) for p in self._params]

    def copy_parameters(self) -> list:
        flat = np.empty(sum(self._sizes), np.float32)   # one allocation, as TorchFloor's
        copy, start = [], 0
        for p, size in zip(self._params, self._sizes):
            part = flat[start:start + size]
            _copy_squares(p.detach().view(-1).numpy(), part)
            copy.append(part)
            start += size
        return copy

    def read_change(self, copy: list) -> list:
        return [_change_squares(p.detach().view(-1).numpy(), part) for p, part in zip(self._params, copy)]
