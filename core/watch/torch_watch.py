"""`vgrad.watch`: a PyTorch module's per-layer gradient norms, written as a vgrad run file.

Layers and bias-like parameters: layers.py. Per layer: speed = ‖∂L/∂b‖₂ over its bias-like
parameters (the book's s_l when the loss is the batch mean; None without one), weight_grad =
‖∂L/∂W‖₂ over its other parameters, the first min(6, width) entries of ∂L/∂b; with `optimizer=`
also ‖Δθ‖₂/‖θ‖₂ over all its parameters; with `activations=True` the saturated and dead
fractions per activation module (activations.py). Norms are computed by torch where the tensors
live (norms.py), one host transfer per record; with `optimizer=` one more for ‖θ‖ before the step
(a float32 norm too small to trust is read again from θ before the step, not after it). torch is
imported only when `watch` is called.

When it records:
- without `optimizer=`: at `watcher.log(step)`, called after `backward()` and before the step:
  the gradients as they are then (half-accumulated under accumulation, scaled under AMP).
- with `optimizer=`: at `optimizer.step()` (a step pre-hook), whatever calls it: once per real
  step under gradient accumulation; under AMP, GradScaler.step calls optimizer.step() only when
  the gradients are finite and after unscale_, so the gradients are unscaled and a skipped step
  is not recorded (an optimizer that unscales inside its fused step gets its gradients divided
  by the scale it is given, and a step it skips is not recorded; between records such a skip
  counts as a step, to spare a host sync per step). Gradients clipped before the
  step (clip_grad_norm_ after scaler.unscale_) are recorded clipped: what the step uses.
  A step given a closure (`optimizer.step(closure)`: LBFGS, Lightning) runs its backward inside
  the step: θ is copied before it and the gradients are read after it, those of the closure's last
  call. LBFGS calls it up to max_iter times (20 by default) and records the gradients of its last
  evaluation; with max_iter=1 those at θ before the step, the ones the step used. The activation
  counts are those of every forward the closure ran.
  Records are numbered by the optimizer steps the watcher saw, from 0; `log(step, loss=…)`
  after the step gives the loss and accuracy to that step's record (it ignores `step`); a record
  nobody logs for is written without them at the next record or at close.
- Sharded (FSDP2 fully_shard, parameters are DTensors): call `watch` on every rank; each rank
  sums the squares of its shards (gradients, θ, Δθ), one all-reduce per record, rank 0 writes;
  no full gradient is gathered. Every rank must step (and log) alike. The neuron bars are the
  first entries of rank 0's shard of each bias gradient, and activation counts are rank 0's
  batch. Under DDP gradients are already averaged: watch on rank 0 only.

What it does with a model that changes: see `Watcher`.
"""

from __future__ import annotations

import itertools
import math
import os
import time
import warnings
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.record.step import NEURONS_SHOWN
from vgrad.core.watch import values as checks
from vgrad.core.watch.activations import Activations
from vgrad.core.watch.layers import ROOT, Layer, default_lens, find_activations, find_layers
from vgrad.core.watch.norms import Norms, exact_floor, plainly_exact, strided, to_host
from vgrad.core.watch.recorder import Recorder

__all__ = ["ROOT", "Watcher", "watch"]

LOOK_AGAIN_S = 1.0  # log's lean path walks the model for changes at least this often (and when a gradient is missing)
WHOLE_HEAD = 4096   # a 1-D bias gradient up to this many entries joins a record's heads whole


def watch(model, path: str | Path, *, optimizer=None, every: int = 1, name: str | None = None,
          overwrite: bool = False, activations: bool = False) -> Watcher:
    """Watch `model` (a torch.nn.Module). With `optimizer=` it records at every `every`-th
    optimizer step by itself; without, call `.log(step)` after `loss.backward()` and before
    `optimizer.step()`. Use it in a `with` or `.close()` it."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"vgrad.watch: model must be a torch.nn.Module, not {type(model).__name__}")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InputError(f"vgrad.watch: every={every!r} must be a whole number ≥ 1")
    if not isinstance(activations, bool):
        raise InputError(f"vgrad.watch: activations={activations!r} must be True or False")
    if optimizer is not None:
        _check_optimizer(torch, model, optimizer)
    layers = find_layers(model)
    if not layers:
        raise InputError(f"vgrad.watch: {type(model).__name__} has no parameters: there is no gradient to watch")
    found = find_activations(model) if activations else []
    if activations and not found:
        raise InputError(f"vgrad.watch: {type(model).__name__} has no activation module vgrad knows (nn.Sigmoid, "
                         "nn.Tanh, nn.ReLU, nn.GELU, nn.SiLU, transformers' GELUActivation, …) to count; activations "
                         "called as functions (F.relu) cannot be watched")
    sharded = _sharded(torch, model)
    recorder = None
    if not sharded or torch.distributed.get_rank() == 0:
        recorder = Recorder(path, [layer.name for layer in layers], name=name or type(model).__name__,
                            overwrite=overwrite, source="vgrad.watch", lens=default_lens(layers),
                            activations=[a.name for a in found] if found else None,
                            activation_kinds=[a.kind for a in found] if found else None)
    return Watcher(torch, model, recorder, layers, every=every, optimizer=optimizer,
                   activations=Activations(torch, model, found) if found else None, sharded=sharded)


class Watcher:
    """Records the watched layers' gradients at `log` or at the optimizer's step.

    A model that changes after `watch()`: a layer replaced under the same name (model.fc =
    nn.Linear(…)) is read from its new parameters; a model cast to another dtype or device is
    read as it is now; layers added under new names are not recorded (the file's layers are
    fixed: watch again, with a new file, to see them) and layers removed are recorded as null;
    each change is warned about once. A record with `optimizer=` looks for changes every time;
    `log` without one when a gradient it reads is missing or of another kind (a replaced layer's
    old parameters get no gradient) and otherwise at least once a second (LOOK_AGAIN_S: the
    walk costs as much as a tenth of a record). A shared module is one layer: its gradient is the sum over
    its uses, as the step sees it. In a process forked after `watch()` the watcher does nothing:
    only the process that called `watch()` writes the file."""

    def __init__(self, torch, model, recorder: Recorder | None, layers: list[Layer], *, every: int,
                 optimizer=None, activations: Activations | None = None, sharded: bool = False) -> None:
        self._torch = torch
        self.recorder = recorder
        self.every = every
        self._model = model
        self._names = [layer.name for layer in layers]
        self._layers: list[Layer | None] = list(layers)
        self._plan = _Plan(torch, self._layers)
        self._signature = _signature(model)
        self._looked = time.monotonic()   # when the model was last walked (_refresh)
        self._optimizer = optimizer
        self._activations = activations
        self._sharded = sharded
        self._pid = os.getpid()
        self._steps = 0            # optimizer steps seen (not those a GradScaler skipped)
        self._pending: _Measure | None = None   # between the step's pre- and post-hook
        self._held: tuple | None = None         # a record made at a step, waiting for log's loss
        self._warned: set[str] = set()
        self._handles = []
        if optimizer is not None:
            self._handles = [optimizer.register_step_pre_hook(self._guarded(self._before_step)),
                             optimizer.register_step_post_hook(self._guarded(self._after_step))]
        if activations is not None:
            activations.arm()
        if recorder is not None:   # the last step's record is kept however the file closes
            recorder.before_close(self._flush)

    @property
    def path(self) -> Path | None:
        return None if self.recorder is None else self.recorder.path

    def log(self, step: int, *, loss=None, accuracy=None) -> None:
        """Without an optimizer: record the current gradients as step `step` (every `every`-th;
        the loss and accuracy of a step not recorded are not read). With one: give loss and
        accuracy to the record of the latest step (see the module)."""
        if os.getpid() != self._pid:
            return
        step = checks.step_number(step)   # bad values are refused here, on the caller's thread
        if self._optimizer is None and step % self.every:   # not recorded: its values are not read
            if self._activations is not None:
                self._arm_for(step + 1)
            return
        loss, accuracy = checks.scalar_later(loss, "loss"), checks.scalar_later(accuracy, "accuracy", checks.fraction)
        if self._optimizer is not None:
            if self._held is not None:
                self._write(*self._held, loss=_host(self._torch, loss), accuracy=_host(self._torch, accuracy))
                self._held = None
            return
        if self._activations is None and not self._sharded and self._log_now(step, loss, accuracy):
            return
        measure = self._measure(step)
        loss, accuracy = _on_host(self._torch, loss), _on_host(self._torch, accuracy)
        scalars = [v.detach().reshape(1) for v in (loss, accuracy) if self._torch.is_tensor(v)]
        values = measure.finish(scalars)
        given = iter(values[len(values) - len(scalars):])
        loss, accuracy = (next(given) if self._torch.is_tensor(v) else v for v in (loss, accuracy))
        self._write(step, values[:len(values) - len(scalars)], measure, loss=loss, accuracy=accuracy)
        self._arm_for(step + 1)

    def _log_now(self, step: int, loss, accuracy) -> bool:
        """The common record, kept lean (it is paid on every recorded step): the gradients of the
        plan (_Plan.read) and nothing else; False when they are not, for the general path."""
        now = time.monotonic()
        if now - self._looked >= LOOK_AGAIN_S:
            self._refresh()
        read = self._plan.read(self._torch, on_host=True)
        if read is None:   # a gradient missing or of another kind: has the model changed?
            self._refresh()
            read = self._plan.read(self._torch, on_host=True)
            if read is None:
                return False
        plan = self._plan
        values, heads = read
        if self.recorder is not None:
            loss, accuracy = _host(self._torch, loss), _host(self._torch, accuracy)
            self.recorder.log_later(lambda: (step, *_per_layer(values, plan.heads_of(heads), plan.slots,
                                                               plan.packed_starts, plan.head_counts, 1.0),
                                             loss, accuracy))
        self._arm_for(step + 1)
        return True

    def number_next(self, step: int) -> None:
        """With an optimizer: number the next optimizer step `step` (a trainer that resumes, or
        that counts the steps a GradScaler skipped); `every` counts from that number."""
        self._steps = checks.step_number(step)

    def close(self) -> None:
        """Write what is held and the end line; remove the hooks (again: nothing)."""
        if self._stop():
            self.recorder.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self._stop():
            self.recorder.__exit__(kind, error, traceback)

    def _stop(self) -> bool:
        """Write what is held, remove every hook; whether there is a recorder to close here."""
        if os.getpid() != self._pid:
            return False
        self._flush()
        self._unhook()
        return self.recorder is not None

    def _unhook(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._activations is not None:
            self._activations.disarm()

    # the optimizer's hooks

    def _guarded(self, hook):
        """`hook`, which never breaks the training it watches: a failure stops the watching, with
        one warning naming it, and the step goes on."""
        def guarded(optimizer, args, kwargs) -> None:
            try:
                hook(optimizer, args, kwargs)
            except Exception as error:   # noqa: BLE001 - whatever it is, the user's step must go on
                self._pending = self._held = None
                self._unhook()
                self._warn(f"vgrad.watch: stopped recording at step {self._steps} ({type(error).__name__}: "
                           f"{error}); training goes on")
        return guarded

    def _before_step(self, optimizer, args, kwargs) -> None:
        """Measure the gradients the step is about to use, and copy θ, on a recorded step; a step
        given a closure computes its gradients inside: they are read after it (see the module)."""
        step = self._steps
        if step % self.every:   # not recorded: only counted (in a forked child too, where nothing else happens)
            self._steps = step + 1
            if self._held is not None:
                self._flush()
            return
        if os.getpid() != self._pid:
            return
        torch = self._torch
        # a fused step that GradScaler hands its inf check to skips itself: looked at (a host
        # sync) only where a record would be made, so such a skip between records is counted
        found_inf = getattr(optimizer, "found_inf", None)
        if torch.is_tensor(found_inf) and found_inf.item():
            return
        self._steps = step + 1
        self._flush()
        scale = getattr(optimizer, "grad_scale", None)     # gradients still scaled, unscaled in the step
        closure = kwargs.get("closure") if kwargs else args[1] if len(args) > 1 else None
        self._pending = self._measure(step, scale=scale.item() if torch.is_tensor(scale) else 1.0,
                                      updates=self._updated(optimizer), now=closure is None)

    def _after_step(self, optimizer, args, kwargs) -> None:
        measure = self._pending
        if measure is not None:   # made by this process's pre-hook
            self._pending = None
            if not measure.has_gradients:
                self._read(measure)   # the gradients the closure computed inside the step
            self._held = (measure.step, measure.finish([]), measure)
        if self._activations is not None and os.getpid() == self._pid:
            self._arm_for(self._steps)

    # measuring

    def _measure(self, step: int, *, scale: float = 1.0, updates: set | None = None, now: bool = True) -> _Measure:
        """A record of `step`: θ copied when `updates`, the gradients read unless not `now`."""
        self._refresh()
        measure = _Measure(self._torch, step, self._plan, scale=scale, updates=updates, sharded=self._sharded)
        if now:
            self._read(measure)
        return measure

    def _read(self, measure: _Measure) -> None:
        """Give `measure` the gradients as they are now and the activation counts so far."""
        activations = self._activations
        counts = activations.parts() if activations is not None else ([], [])
        if activations is not None:
            activations.disarm()
        measure.gradients(counts)

    def _updated(self, optimizer) -> set[int]:
        return {id(p) for group in optimizer.param_groups for p in group["params"]}

    def _arm_for(self, step: int) -> None:
        """Count activations in the forwards before `step` when it will be recorded."""
        if self._activations is None:
            return
        if step % self.every == 0:
            self._activations.arm()
        elif self._activations.armed:
            self._activations.disarm()
            self._activations.reset()

    def _write(self, step: int, values: list[float], measure: _Measure, *, loss=None, accuracy=None) -> None:
        if self.recorder is None:
            return
        self.recorder.log_later(lambda: (step, *measure.unpack(values), loss, accuracy, *measure.extras(values)))

    def _flush(self) -> None:
        """Write a held record that no `log` came for (only in the process that called watch())."""
        if self._held is not None and os.getpid() == self._pid:
            self._write(*self._held)
            self._held = None

    def _refresh(self) -> None:
        """Follow the model's parameters if they changed since the last record (see the class)."""
        self._looked = time.monotonic()
        signature = _signature(self._model)
        if signature == self._signature:
            return
        self._signature = signature
        now = {layer.name: layer for layer in find_layers(self._model)}
        self._layers = [now.get(name) for name in self._names]
        self._plan = _Plan(self._torch, self._layers)
        added = [name for name in now if name not in self._names]
        removed = [name for name, layer in zip(self._names, self._layers) if layer is None]
        if added:
            self._warn(f"vgrad.watch: layers added after watch() are not recorded ({', '.join(added[:3])}"
                       f"{', …' if len(added) > 3 else ''}): watch the model again, with a new file, to see them")
        if removed:
            self._warn(f"vgrad.watch: layers removed after watch() are recorded as null ({', '.join(removed[:3])}"
                       f"{', …' if len(removed) > 3 else ''})")

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=4)


class _Measure:
    """One record's device work: gradient norms and bias heads at once, θ copied when the step's
    update is measured; `finish` adds the update's norms and brings everything to the host."""

    def __init__(self, torch, step: int, plan: _Plan, *, scale: float, updates: set | None,
                 sharded: bool) -> None:
        self._torch = torch
        self.step = step
        self._scale = scale
        self._sharded = sharded
        self._plan = plan
        self.has_gradients = False
        self._params: list = []
        self._theta: Norms | None = None
        self._theta_values: list[float] | None = None   # ‖θ‖ on the host, when read before the step
        self._copy = None
        self._plain = False
        if updates is not None:   # θ before the step: one flat copy of the parameters the optimizer updates
            self._params = [[p for p in layer.parameters if id(p) in updates] if layer is not None else []
                            for layer in plan.layers]
            params = [p for group in self._params for p in group]
            self._plain = (plan.plain and not sharded and bool(params)   # and not cast since the plan
                           and {(p.dtype, p.device) for p in params} == {plan.kind})
            if self._plain:   # one dtype, one device: one flat copy (one allocation), θ as its flat views
                with torch.no_grad():
                    flat = torch.cat([p.reshape(-1) for p in params])
                    self._copy = list(flat.split([p.numel() for p in params]))
                self._theta = Norms.together(torch, self._copy, plan.floor,
                                             torch.stack(torch._foreach_norm(self._copy)))
            else:
                self._copy = _flat_copy(torch, [strided(torch, p.detach()) for p in params])
                self._theta = Norms(torch, self._copy, float64=sharded)
            if not sharded:   # read now, while a float64 recheck can still read θ before the step
                self._theta_values = self._theta.values(to_host(torch, self._theta.parts))

    def gradients(self, activations: tuple) -> None:
        """Read the gradients as they are now (norms and bias heads, on their device), and take
        the activation counts (Activations.parts)."""
        torch = self._torch
        self.has_gradients = True
        self._activation_parts, self._activation_plan = activations
        fast = None if self._sharded else self._plan.read(torch)
        if fast is not None:
            self._grads, self._heads = fast
            self._grad_slots, self._head_counts, self._head_starts = (self._plan.slots, self._plan.head_counts,
                                                                      self._plan.packed_starts)
            self._whole_heads = True
        else:
            self._read_each(torch, self._plan.layers)

    def _read_each(self, torch, layers: list) -> None:
        """Gradients of any kind: missing, sparse, sharded, of mixed dtypes or devices."""
        grads: list = []
        heads = []
        self._grad_slots: list[tuple] = []   # per layer: has a bias gradient, indices of its biases', others'
        self._head_counts: list[int] = []
        for layer in layers:
            if layer is None:
                self._grad_slots.append((False, (), ()))
                self._head_counts.append(0)
                continue
            biases = [strided(torch, p.grad, dense=True) for p in layer.biases]
            others = [strided(torch, p.grad) for p in layer.others]
            start = len(grads)
            grads += [g for g in biases if g is not None]
            middle = len(grads)
            grads += [g for g in others if g is not None]
            first = biases[0] if biases else None
            self._grad_slots.append((first is not None, range(start, middle), range(middle, len(grads))))
            count = 0 if first is None else min(NEURONS_SHOWN, first.numel())
            if count:
                heads.append(first[:count] if first.dim() == 1 else first.reshape(-1)[:count])
            self._head_counts.append(count)
        self._grads = Norms(torch, grads, float64=self._sharded)
        self._heads = torch.cat(heads) if heads else None   # a copy: the step may change the gradients
        self._head_starts = list(itertools.accumulate(self._head_counts, initial=0))
        self._whole_heads = False

    def finish(self, scalars: list) -> list[float]:
        """Every value on the host, after the step (when θ was copied): one transfer per device,
        and one all-reduce of the squares when sharded."""
        torch = self._torch
        deltas = None
        if self._copy is not None:
            copies = self._copy
            with torch.no_grad():
                if self._plain:   # the parameters the copies were made of, as the step left them
                    try:
                        torch._foreach_sub_(copies, [p.reshape(-1) for group in self._params for p in group])
                        same = True
                    except RuntimeError:   # resized inside the step (by its closure)
                        same = False
                else:
                    now = [strided(torch, p.detach()) for group in self._params for p in group]
                    same = len(now) == len(copies) and all(c.shape == n.shape and c.dtype == n.dtype
                                                           for c, n in zip(copies, now))
                    if same and now:
                        torch._foreach_sub_(copies, now)   # θ_before − θ_after, in place of the copy
            if same:
                if self._plain:
                    deltas = Norms.together(torch, copies, self._plan.floor, torch.stack(torch._foreach_norm(copies)))
                else:
                    deltas = Norms(torch, copies, float64=self._sharded)
        theta_parts = self._theta.parts if self._theta is not None and self._theta_values is None else []
        norms = [*self._grads.parts, *theta_parts, *(deltas.parts if deltas else ())]
        if self._sharded:
            norms = _all_reduce_squares(torch, norms)
        # the heads are this record's own copy: on the host, the writer thread reads them (unpack)
        heads = [self._heads] if self._heads is not None and not self._heads.is_cpu else []
        counts = [c if torch.is_tensor(c) else torch.tensor(float(c)) for c in self._activation_parts]
        host = to_host(torch, [*norms, *heads, *counts, *scalars])
        self._copy = None   # θ's copy freed
        count_g = len(self._grads.tensors)
        count_t = len(self._theta.tensors) if theta_parts else 0
        count_d = len(deltas.tensors) if deltas else 0
        grads = self._grads.values(host[:count_g])
        theta = (self._theta_values if self._theta_values is not None
                 else self._theta.values(host[count_g:count_g + count_t]) if theta_parts else [])
        position = count_g + count_t + count_d
        delta = deltas.values(host[count_g + count_t:position]) if deltas else []
        if heads:
            self._heads = host[position:position + heads[0].numel()]
            position += len(self._heads)
        rest = host[position:]
        self._layout = (len(grads), len(theta), len(delta))
        self._groups = [len(group) for group in self._params] if self._theta is not None else None
        self._grads = self._theta = None   # the gradients and parameters are not held any longer
        self._params = []
        return [*grads, *theta, *delta, *rest]

    def unpack(self, values: list[float]) -> tuple:
        """(speed, weight_grad, neurons) per layer from `finish`'s values (on the writer thread)."""
        heads, self._heads = self._heads, None
        if self._whole_heads:
            heads = self._plan.heads_of(heads)
        return _per_layer(values[:self._layout[0]], heads, self._grad_slots, self._head_starts, self._head_counts,
                          self._scale)

    def extras(self, values: list[float]) -> tuple:
        """(update_ratio, saturated, dead) from `finish`'s values; None where not measured."""
        count_g, count_t, count_d = self._layout
        ratio = None
        if self._groups is not None and count_d == count_t:
            theta, delta = values[count_g:count_g + count_t], values[count_g + count_t:count_g + count_t + count_d]
            ratio, position = [], 0
            for size in self._groups:
                before = math.hypot(*theta[position:position + size])
                moved = math.hypot(*delta[position:position + size])
                position += size
                ratio.append(moved / before if size and before > 0 else None)
        saturated = dead = None
        if self._activation_plan:
            start = sum(self._layout)
            host = values[start:start + len(self._activation_parts)]
            saturated, dead = _fractions(host, self._activation_plan)
        return ratio, saturated, dead


class _Plan:
    """The watched layers' parameters in reading order (per layer its biases, then the others) and
    where each layer's values fall: the common record (every gradient there, dense, of the dtype
    and on the one device planned) is read in one pass with no per-layer work."""

    def __init__(self, torch, layers: list) -> None:
        self._torch = torch
        self.layers = layers
        self.params = [p for layer in layers if layer is not None for p in layer.parameters]
        self.dtypes = [p.dtype for p in self.params]
        self.slots: list[tuple] = []
        self.head_counts: list[int] = []
        self.heads: list[tuple[int, int]] = []   # (index in params, entries) of each layer's first bias
        self._numels: list[int] = []             # and its size
        position = 0
        for layer in layers:
            if layer is None:
                self.slots.append((False, (), ()))
                self.head_counts.append(0)
                continue
            count_b, count_o = len(layer.biases), len(layer.others)
            self.slots.append((count_b > 0, range(position, position + count_b),
                               range(position + count_b, position + count_b + count_o)))
            count = min(NEURONS_SHOWN, layer.biases[0].numel()) if count_b else 0
            self.head_counts.append(count)
            if count:
                self.heads.append((position, count))
                self._numels.append(layer.biases[0].numel())
            position += count_b + count_o
        self.plain = (len({(p.dtype, p.device) for p in self.params}) == 1   # none: every layer gone
                       and self.dtypes[0] not in (torch.float16, torch.bfloat16))
        self.kind = (self.params[0].dtype, self.params[0].device) if self.params else None
        self._on_cpu = self.kind is not None and self.kind[1].type == "cpu"
        self.floor = exact_floor(torch, self.params, False)
        self._kinds = [(dtype, torch.strided) for dtype in self.dtypes]
        # a record's heads tensor: each head's source, a small 1-D bias gradient whole (one copy
        # with the others, no slice of its own), a larger one by its first entries
        self._sources = [(i, count, self.params[i].dim() == 1 and numel <= WHOLE_HEAD)
                         for (i, count), numel in zip(self.heads, self._numels)]
        starts = iter(itertools.accumulate((numel if whole else count for (_, count, whole), numel
                                            in zip(self._sources, self._numels)), initial=0))
        sources = [next(starts) if count else 0 for count in self.head_counts]
        self._pick = [start + j for start, count in zip(sources, self.head_counts) for j in range(count)]
        self._picker = None
        self.packed_starts = list(itertools.accumulate(self.head_counts, initial=0))   # in heads_of's list

    def heads_of(self, heads) -> list[float] | None:
        """The heads' entries, layer after layer, from a record's copy of their sources (a tensor in
        host memory, or a list): on the writer thread, which so converts 54 numbers, not 2304."""
        if heads is None:
            return None
        if isinstance(heads, list):
            return [heads[i] for i in self._pick]
        if self._picker is None:
            self._picker = self._torch.tensor(self._pick, dtype=self._torch.long)
        return heads.index_select(0, self._picker).tolist()

    def read(self, torch, *, on_host: bool = False) -> tuple | None:
        """(Norms of every gradient, a copy of the heads' sources or None) in one pass, or None when a
        gradient is missing, not dense, or not of the dtype planned. The heads are a copy: the
        step may change the gradients. `on_host`: the norms as exact floats instead of Norms."""
        if not self.plain:
            return None
        grads = [p.grad for p in self.params]
        try:
            if [(g.dtype, g.layout) for g in grads] != self._kinds:
                return None
        except AttributeError:   # a gradient is None
            return None
        if any(grads[i].numel() != n for (i, _), n in zip(self.heads, self._numels)):
            return None   # a bias resized since
        try:
            norms = torch._foreach_norm(grads)
            heads = torch.cat([grads[i] if whole else grads[i].reshape(-1)[:count]
                               for i, count, whole in self._sources]) if self._sources else None
            if not on_host:
                return Norms.together(torch, grads, self.floor, torch.stack(norms)), heads
            if self._on_cpu:   # a float per norm costs less than a stack
                host = [norm.item() for norm in norms]
            else:   # one transfer, the heads with the norms: the writer thread reads no device memory
                both = torch.cat([torch.stack(norms), *([heads] if heads is not None else [])]).tolist()
                host, heads = both[:len(grads)], both[len(grads):] if heads is not None else None
        except RuntimeError:   # the model moved to several devices since, or a bias changed shape
            return None
        if not plainly_exact(host, self.floor):
            host = Norms.together(torch, grads, self.floor, None).values(host)
        return host, heads


def _per_layer(grads: list[float], heads, slots: list, starts: list[int], counts: list[int],
               scale: float) -> tuple:
    """(speed, weight_grad, neurons) per layer from the gradients' norms and the heads (a list, or
    the record's own tensor, read here), all divided by the loss scale (on the writer thread)."""
    speed, weight = [], []
    for has_bias, slot_b, slot_o in slots:
        speed.append(math.hypot(*(grads[i] for i in slot_b)) / scale if has_bias else None)
        weight.append(math.hypot(*(grads[i] for i in slot_o)) / scale if slot_o else None)
    if heads is not None and not isinstance(heads, list):
        heads = heads.tolist()
    bars = [[value / scale for value in heads[start:start + count]] if count else ()
            for start, count in zip(starts, counts)]
    return speed, weight, bars


def _fractions(host: list[float], plan: list) -> tuple[list, list]:
    """(saturated, dead) per activation module from its counts (Activations.parts' plan)."""
    saturated: list = []
    dead: list = []
    position = 0
    for values, units, saturating, count in plan:
        total = sum(host[position:position + count])
        position += count
        saturated.append((total / values if values else None) if saturating else None)
        dead.append(None if saturating else (total / units if units else None))
    return saturated, dead


def _flat_copy(torch, tensors: list) -> list:
    """A copy of `tensors` as views of one flat buffer per (dtype, device): one allocation each."""
    groups: dict = {}
    for index, tensor in enumerate(tensors):
        groups.setdefault((tensor.dtype, tensor.device), []).append(index)
    copies: list = [None] * len(tensors)
    for indices in groups.values():
        flat = torch.cat([tensors[i].reshape(-1) for i in indices])
        for i, view in zip(indices, flat.split([tensors[i].numel() for i in indices])):
            copies[i] = view.view(tensors[i].shape)
    return copies


def _all_reduce_squares(torch, norms: list) -> list:
    """Each rank's shard norms → the whole tensors' norms: √(Σ_ranks ‖shard‖²), one all-reduce."""
    if not norms:
        return norms
    squares = torch.cat([n.to(torch.float64) for n in norms]).square()
    torch.distributed.all_reduce(squares)
    return list(squares.sqrt().split([n.numel() for n in norms]))


def _on_host(torch, value):
    """A loss or accuracy in host memory read now (no transfer to share), else as given."""
    return value.item() if torch.is_tensor(value) and value.device.type == "cpu" else value


def _host(torch, value):
    """A loss or accuracy as a float now (a tensor's value, its graph untouched), else as given."""
    return value.item() if torch.is_tensor(value) else value


def _signature(model) -> list[int]:
    """Which parameters the model holds now, by identity: a layer replaced or added changes it.
    (The watcher holds the watched parameters, so no id is reused meanwhile.) A walk of the
    modules' own tables: model.parameters() costs as much as the rest of a record."""
    ids: list[int] = []
    stack = [model]
    while stack:
        module = stack.pop()
        if module is not None:
            ids += map(id, module._parameters.values())
            stack += module._modules.values()
    return ids


def _sharded(torch, model) -> bool:
    """Whether the model's parameters are sharded over ranks (FSDP2's DTensors)."""
    return (torch.distributed.is_available() and torch.distributed.is_initialized()
            and any(hasattr(p, "to_local") for p in model.parameters()))


def _check_optimizer(torch, model, optimizer) -> None:
    """A torch optimizer over parameters of this model, or InputError naming the culprit."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InputError(f"vgrad.watch: optimizer= must be a torch.optim.Optimizer, not {type(optimizer).__name__}")
    own = {id(p) for p in model.parameters()}
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) not in own:
                raise InputError(f"vgrad.watch: the optimizer updates a parameter of shape {tuple(p.shape)} that is "
                                 f"not in {type(model).__name__}: pass the model the optimizer trains")
