"""`vgrad.watch`: a PyTorch module's per-layer gradient norms, written as a vgrad run file.

Layers are the modules that own parameters directly (nn.Linear, nn.Conv2d, norm layers, …),
in registration order, named by their qualified names. Per layer: speed = ‖∂L/∂b‖₂ (the
book's s_l when the loss is the batch mean; None without a bias gradient), weight_grad =
‖∂L/∂W‖₂ over the layer's other parameters, and the first min(6, width) entries of ∂L/∂b.
The norms are computed where the tensors live; one host sync per record. torch is
imported here only, when `watch` is called.
"""

from __future__ import annotations

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

        norms, neurons, slots = [], [], []
        for bias, others in self._layers:
            bias_grad = None if bias is None else bias.grad
            grads = [p.grad for p in others if p.grad is not None]
            slot = [None, None, 0]
            if bias_grad is not None:
                slot[0] = len(norms)
                norms.append(_norm(bias_grad))
                flat = bias_grad.detach().reshape(-1)[:NEURONS_SHOWN]
                slot[2] = flat.numel()
                neurons.append(flat.to(norms[-1].dtype))
            if grads:
                slot[1] = len(norms)
                norms.append(torch.linalg.vector_norm(torch.stack([_norm(g) for g in grads])))
            slots.append(slot)
        scalars = []
        for value in (loss, accuracy):
            scalars.append(value.detach().reshape(()).double().cpu() if torch.is_tensor(value) else value)
        values = _to_host(norms, neurons)   # the one host sync
        offset = len(norms)
        speed, weight_grad, bars = [], [], []
        for bias_at, weight_at, count in slots:
            speed.append(None if bias_at is None else values[bias_at])
            weight_grad.append(None if weight_at is None else values[weight_at])
            bars.append(values[offset:offset + count])
            offset += count
        loss_value, accuracy_value = (None if v is None else float(v) for v in scalars)
        self.recorder.log(step, speed=speed, weight_grad=weight_grad, neurons=bars, loss=loss_value,
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


def _norm(grad):
    """‖grad‖₂ on grad's device, half precisions summed in float32."""
    import torch

    low = grad.dtype in (torch.float16, torch.bfloat16)
    return torch.linalg.vector_norm(grad.detach(), dtype=torch.float32 if low else None)


def _to_host(norms: list, neurons: list) -> list[float]:
    """Every number of one record in one transfer to the host."""
    import torch

    if not norms:
        return []
    device, dtype = norms[0].device, torch.promote_types(norms[0].dtype, torch.float32)
    parts = [torch.stack([n.to(device, dtype) for n in norms])]
    parts += [n.to(device, dtype) for n in neurons]
    return torch.cat(parts).tolist()
