"""Saturated and dead units per activation module, counted by forward hooks that are registered
only for the forwards of a recorded step and removed after it.

Per activation output a:
- sigmoid: saturated where σ'(z) = a(1 − a) < 0.01 (|z| > ~4.6); tanh: where |a| > 0.97.
  The fraction is over every value of every example of the step's forwards.
- ReLU family (relu, relu6, leaky_relu, elu, gelu, silu): a unit is a feature, the last dim of
  (B, C) or (B, T, C), or a channel, dim 1 of (B, C, H, W) (unit_dim). It is dead when its output
  is ≤ 0 for every example and every position of the step (every micro-batch under
  accumulation): ReLU passes back nothing there, the others only their small negative slope.
Only forwards with gradients on count: an evaluation under torch.no_grad() does not.
A module called several times per forward (one nn.ReLU reused after every layer) counts each
call's units separately: its k-th call in one forward is the same unit set in every forward of
the step; the root model's forward starts the count again.
"""

from __future__ import annotations

from vgrad.core.saturation import SIGMOID_SLOPE, TANH_LEVEL
from vgrad.core.watch.layers import SATURATING, Activation

EXACT_COUNT = 1 << 24   # float32 counts every whole number up to this


def unit_dim(rank: int, channels_first: bool | None) -> int:
    """Which dim of a rank-`rank` output holds the units (the rest are examples and positions): the
    last of (B, C) and of (B, T, C) (a sequence's features), dim 1 of (B, C, H, W) (an image's
    channels); `channels_first` (layers.Activation's) overrides the guess from the rank."""
    if rank <= 2:
        return rank - 1
    if channels_first is None:
        channels_first = rank >= 4
    return 1 if channels_first else rank - 1


class Activations:
    """The hooks and counts of one recorded step's forwards."""

    def __init__(self, torch, model, found: list[Activation]) -> None:
        self._torch = torch
        self._model = model
        self.names = [a.name for a in found]
        self.kinds = [a.kind for a in found]
        self._modules = [a.module for a in found]
        self._channels_first = [a.channels_first for a in found]
        self._hooks = [self._hook(index) for index in range(len(found))]
        self._handles: list = []
        self.reset()

    @property
    def armed(self) -> bool:
        return bool(self._handles)

    def arm(self) -> None:
        """Count the units of every forward from now until `parts`."""
        if self._handles:
            return
        self._handles.append(self._model.register_forward_pre_hook(self._new_forward))
        self._handles += [module.register_forward_hook(hook) for module, hook in zip(self._modules, self._hooks)]

    def disarm(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def parts(self) -> tuple[list, list]:
        """Device tensors of the counts so far (saturated values, dead units per module and call),
        and how to read them: per module (values counted, units counted, saturating?, parts).
        The counts start again."""
        parts: list = []
        plan = []
        for index, kind in enumerate(self.kinds):
            if kind in SATURATING:
                total = self._values[index]
                plan.append((total, 0, True, len(self._saturated[index])))
                parts += self._saturated[index]
            else:
                peaks = list(self._peak[index].values())
                plan.append((0, sum(peak.numel() for peak in peaks), False, len(peaks)))
                parts += [peak.numel() - (peak > 0).sum() for peak in peaks]   # dead: never above 0
        self.reset()
        return parts, plan

    def reset(self) -> None:
        """Forget the counts so far."""
        self._saturated: list[list] = [[] for _ in self._modules]
        self._values = [0] * len(self._modules)
        self._peak: list[dict] = [{} for _ in self._modules]   # per call: each unit's largest output so far
        self._calls = [0] * len(self._modules)

    def _new_forward(self, module, inputs) -> None:
        self._calls = [0] * len(self._modules)

    def _hook(self, index: int):
        torch = self._torch
        kind = self.kinds[index]

        def count(module, inputs, output) -> None:
            if not torch.is_grad_enabled() or not torch.is_tensor(output) or output.dim() == 0:
                return
            a = output.detach()
            call = self._calls[index]
            self._calls[index] = call + 1
            values = a.numel()
            if values == 0:   # an empty batch: nothing to count (and no maximum over it)
                return
            if kind in SATURATING:   # σ'(z) = a − a·a below the slope; |a| above the level
                flat = (torch.addcmul(a, a, a, value=-1).lt_(SIGMOID_SLOPE) if kind == "sigmoid"
                        else a.abs().gt_(TANH_LEVEL))
                # a float32 sum of 0s and 1s is exact up to 2^24 of them (and costs a third of count_nonzero)
                self._saturated[index].append(flat.sum(dtype=torch.float32) if values <= EXACT_COUNT
                                              else flat.count_nonzero())
                self._values[index] += values
                if len(self._saturated[index]) > 64:   # many calls: keep one running sum, exact in float64
                    self._saturated[index] = [torch.stack([c.double() for c in self._saturated[index]]).sum()]
                return
            unit = unit_dim(a.dim(), self._channels_first[index])
            others = [d for d in range(a.dim()) if d != unit]
            peak = a.amax(dim=others) if others else a.reshape(1, -1).amax(dim=0)   # (units,): the largest seen
            key = (call, peak.shape[0])
            before = self._peak[index].get(key)
            self._peak[index][key] = peak if before is None else torch.maximum(before, peak)
        return count
