"""`vgrad.watch`: a PyTorch module's per-layer gradient norms, written as a vgrad run file.

Layers are the modules that own parameters directly (nn.Linear, nn.Conv2d, norm layers, …),
in registration order, named by their qualified names. Per layer: speed = ‖∂L/∂b‖₂ (the
book's s_l when the loss is the batch mean; None without a bias gradient), weight_grad =
‖∂L/∂W‖₂ over the layer's other parameters, and the first min(6, width) entries of ∂L/∂b.
The norms are computed where the tensors live; one host sync per record. On the CPU one compiled
pass reads every gradient in place (_InMemory). torch is imported here only, when `watch` is called.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.record.step import NEURONS_SHOWN
from vgrad.core.watch import values as checks
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
        import torch

        self.recorder = recorder
        self.every = every
        self._layers = [_split(module) for module in modules]
        self._biases = [bias for bias, _ in self._layers if bias is not None]
        self._others = [p for _, others in self._layers for p in others]
        self._heads = [min(NEURONS_SHOWN, bias.numel()) for bias in self._biases]
        kinds = {(p.dtype, p.device) for p in self._biases + self._others}
        self._kind = next(iter(kinds)) if len(kinds) == 1 and _plain(torch, next(iter(kinds))[0]) else None
        starts = [0]
        for bias in self._biases:
            starts.append(starts[-1] + bias.numel())
        self._head_index = None if self._kind is None else torch.tensor(
            [start + k for start, count in zip(starts, self._heads) for k in range(count)],
            dtype=torch.long, device=self._kind[1])
        on_cpu = self._kind is not None and self._kind[1].type == "cpu" and self._kind[0] in (
            torch.float32, torch.float64)
        self._in_memory = _InMemory(self._biases + self._others, self._heads) if on_cpu else None

    @property
    def path(self) -> Path:
        return self.recorder.path

    def log(self, step: int, *, loss=None, accuracy=None) -> None:
        """Record the current gradients as step `step` (only every `every`-th step)."""
        step = checks.step_number(step)   # bad values are refused here, on the caller's thread
        if step % self.every:
            return
        loss, accuracy = checks.scalar_later(loss, "loss"), checks.scalar_later(accuracy, "accuracy", checks.fraction)
        import torch

        values = self._read_in_memory(torch, loss, accuracy) if self._in_memory else self._read_together(
            torch, loss, accuracy)
        if values is not None:   # the writer thread lays the values out
            given = tuple(None if torch.is_tensor(v) else v for v in (loss, accuracy))
            taken = tuple(torch.is_tensor(v) for v in (loss, accuracy))
            self.recorder.log_later(functools.partial(self._unpack, step, values, given, taken))
            return
        biases = [None if bias is None else _strided(torch, bias.grad, dense=True) for bias, _ in self._layers]
        weights = [[_strided(torch, p.grad) for p in others if p.grad is not None] for _, others in self._layers]
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

    def _read_in_memory(self, torch, loss, accuracy) -> list[float] | None:
        """`_read_together`'s values for CPU tensors of float32 or float64, read in place by one
        compiled pass (_InMemory). None where a gradient is missing or not one dense block."""
        values = self._in_memory.read()
        if values is None:
            return None
        return values + [v.item() for v in (loss, accuracy) if torch.is_tensor(v)]

    def _read_together(self, torch, loss, accuracy) -> list[float] | None:
        """The common case in a handful of kernels: every parameter has a gradient, all of one
        dtype (not half) on one device, like the scalars. ‖g‖₂ of the biases' then the others'
        gradients, the first entries of each bias gradient (one gather from their concatenation),
        the scalars; one host transfer. None otherwise."""
        if self._kind is None:
            return None
        biases = [p.grad for p in self._biases]
        others = [p.grad for p in self._others]
        if any(g is None or g.layout != torch.strided for g in biases + others):
            return None
        scalars = [v.detach().reshape(1) for v in (loss, accuracy) if torch.is_tensor(v)]
        if any((s.dtype, s.device) != self._kind for s in scalars):
            return None
        heads = [torch.cat([g.reshape(-1) for g in biases])[self._head_index]] if biases else []
        return torch.cat([torch.stack(torch._foreach_norm(biases + others)), *heads, *scalars]).tolist()

    def _unpack(self, step: int, values: list[float], given: tuple, taken: tuple) -> tuple:
        """Recorder.log's arguments from `_read_together`'s values (on the writer thread)."""
        values = iter(values)
        speed = [None if bias is None else next(values) for bias, _ in self._layers]
        weight_grad = [math.hypot(*(next(values) for _ in others)) if others else None for _, others in self._layers]
        heads = iter(self._heads)
        bars = [() if bias is None else [next(values) for _ in range(next(heads))] for bias, _ in self._layers]
        loss, accuracy = (next(values) if tensor else value for value, tensor in zip(given, taken))
        return step, speed, weight_grad, bars, loss, accuracy


class _InMemory:
    """The norms and first bias entries of CPU gradients, read where they lie: one call of a
    compiled kernel (engine/gradient_norms.py) instead of a numpy view and a dot product per
    tensor, which cost as much again as reading the gradients themselves."""

    def __init__(self, parameters: list, heads: list[int]) -> None:
        import numpy as np

        from vgrad.core.engine import gradient_norms

        self._parameters = parameters
        self._kernel = gradient_norms.norms_and_heads
        count = len(parameters)
        self._numels = [p.numel() for p in parameters]
        self._counts = np.array(self._numels, dtype=np.int64)
        self._heads = np.zeros(count, dtype=np.int64)
        self._heads[:len(heads)] = heads
        self._dtype = parameters[0].dtype
        self._like = parameters[0].detach().new_empty(0).numpy()   # an empty array of the gradients' numpy dtype
        self._size = count + sum(heads)

    def read(self) -> list[float] | None:
        """‖g‖₂ of every parameter's gradient, then the first entries of each bias gradient;
        None unless every gradient is still what the kernel reads: on the CPU, of the dtype and
        size the watcher was made for (a model cast or resized since is not), one dense block."""
        import numpy as np

        grads = [p.grad for p in self._parameters]   # held, so that no gradient is freed meanwhile
        try:
            if not all(g.dtype == self._dtype and g.numel() == n and g.is_cpu and _one_block(g)
                       for g, n in zip(grads, self._numels)):
                return None
        except AttributeError:   # a gradient never computed is None
            return None
        out = np.empty(self._size)   # per call: two threads may log at once
        addresses = np.array([g.data_ptr() for g in grads], dtype=np.int64)
        self._kernel(addresses, self._counts, self._heads, self._like, out)
        return out.tolist()


def _one_block(tensor) -> bool:
    """Whether the tensor's elements fill numel() places from data_ptr() on, in any order:
    contiguous, or dense in another order (a channels_last convolution's weight). Heads are
    read from biases, which are one-dimensional, so the order matters only for norms."""
    try:
        if tensor.is_contiguous():
            return True
    except RuntimeError:   # sparse layouts have no strides
        return False
    span = 1
    for stride, size in sorted(zip(tensor.stride(), tensor.shape)):
        if size != 1 and stride != span:
            return False
        span *= size
    return True


def _strided(torch, grad, *, dense: bool = False):
    """A gradient as a strided tensor with the same norm: a sparse one (nn.Embedding(sparse=True))
    by its coalesced values, or whole when `dense` (a bias, whose first entries are shown)."""
    if grad is None or grad.layout == torch.strided:
        return grad
    if dense:
        return grad.to_dense()
    return grad.coalesce().values() if grad.is_sparse else grad.values()


def _plain(torch, dtype) -> bool:
    """A real floating dtype whose norms need no wider accumulator."""
    return dtype.is_floating_point and dtype not in (torch.float16, torch.bfloat16)


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
