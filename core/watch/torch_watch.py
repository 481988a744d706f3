"""`vgrad.watch`: a PyTorch module's per-layer gradient norms, written as a vgrad run file.

Layers are the modules that own parameters directly (nn.Linear, nn.Conv2d, norm layers, …),
in registration order, named by their qualified names. Per layer: speed = ‖∂L/∂b‖₂ (the
book's s_l when the loss is the batch mean; None without a bias gradient), weight_grad =
‖∂L/∂W‖₂ over the layer's other parameters, and the first min(6, width) entries of ∂L/∂b.
The norms are computed where the tensors live; one host sync per record. torch is
imported here only, when `watch` is called.
"""

from __future__ import annotations

import math
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.record.step import NEURONS_SHOWN
from vgrad.core.watch.recorder import Recorder

ROOT = "(root)"   # the name of a model that owns parameters itself


def watch(model, path: str | Path, *, every: int = 1, name: str | None = None,
          overwrite: bool = False) -> Watcher:
    """Watch `model` (a torch.nn.Module): call `.log(step)` after `loss.backward()` and before
    `optimizer.step()`, every step; it records every `every`-th. Use it in a `with` or `.close()`."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"vgrad.watch: model must be a torch.nn.Module, not {type(model).__name__}")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InputError(f"vgrad.watch: every={every!r} must be a whole number ≥ 1")
    layers = [(qualified or ROOT, module) for qualified, module in model.named_modules()
              if next(iter(module.parameters(recurse=False)), None) is not None]
    if not layers:
        raise InputError(f"vgrad.watch: {type(model).__name__} has no parameters: there is no gradient to watch")
    recorder = Recorder(path, [layer for layer, _ in layers], name=name or type(model).__name__,
                        overwrite=overwrite, source="vgrad.watch")
    return Watcher(recorder, [module for _, module in layers], every)


class Watcher:
    """Reads the gradients of each watched layer when `log` is called."""

    def __init__(self, recorder: Recorder, modules: list, every: int) -> None:
        self.recorder = recorder
        self.every = every
        self._layers = [_split(module) for module in modules]

    @property
    def path(self) -> Path:
        return self.recorder.path

    def log(self, step: int, *, loss=None, accuracy=None) -> None:
        """Record the current gradients as step `step` (only every `every`-th step)."""
        if step % self.every:
            return
        import torch

        biases = [None if bias is None else bias.grad for bias, _ in self._layers]
        weights = [[p.grad for p in others if p.grad is not None] for _, others in self._layers]
        grads = [g for g in biases if g is not None] + [g for group in weights for g in group]
        scalars = [v.detach().reshape(1) for v in (loss, accuracy) if torch.is_tensor(v)]
        values = iter(_to_host(grads, [g for g in biases if g is not None], scalars))   # the one host sync
        bias_norms = [None if g is None else next(values) for g in biases]
        weight_grad = [None if not group else math.hypot(*(next(values) for _ in group)) for group in weights]
        bars = [() if g is None else [next(values) for _ in range(min(NEURONS_SHOWN, g.numel()))] for g in biases]
        loss_value, accuracy_value = (next(values) if torch.is_tensor(v) else v for v in (loss, accuracy))
        self.recorder.log(step, speed=bias_norms, weight_grad=weight_grad, neurons=bars, loss=loss_value,
                          accuracy=accuracy_value)

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.recorder.__exit__(kind, error, traceback)


def _split(module) -> tuple:
    """(the bias parameter or None, the other parameters) that `module` owns directly."""
    own = dict(module.named_parameters(recurse=False))
    bias = own.pop("bias", None)
    return bias, list(own.values())


def _to_host(grads: list, biases: list, scalars: list) -> list[float]:
    """‖g‖₂ of every gradient, the first NEURONS_SHOWN entries of each bias gradient, then the
    scalars: computed on the tensors' device (half precisions in float32) and brought to the
    host in one transfer."""
    import torch

    if not grads and not scalars:
        return []
    low = (torch.float16, torch.bfloat16)
    slices = [b.view(-1)[:NEURONS_SHOWN] for b in biases]
    dtypes = {t.dtype for t in (*grads, *scalars)}
    if len(dtypes) == 1 and not dtypes & set(low):   # the common case: one dtype, not half
        try:
            norms = [torch.stack(torch._foreach_norm(grads))] if grads else []
            return torch.cat([*norms, *slices, *scalars]).tolist()
        except RuntimeError:   # tensors on several devices
            pass
    norms = [torch.linalg.vector_norm(g, dtype=torch.float32 if g.dtype in low else None) for g in grads]
    parts = [n.reshape(1) for n in norms] + slices + scalars
    first = parts[0]
    dtype = torch.float64 if first.device.type == "cpu" or first.dtype == torch.float64 else torch.float32
    return torch.cat([p.to(first.device, dtype) for p in parts]).tolist()   # mixed dtypes or devices
