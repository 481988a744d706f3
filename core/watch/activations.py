"""Saturated and dead units per activation module, counted by forward hooks that are registered
only for the forwards of a recorded step and removed after it.

Per activation output a (shape (B, …): B examples, the rest its units):
- sigmoid: saturated where σ'(z) = a(1 − a) < 0.01 (|z| > ~4.6); tanh: where |a| > 0.97.
  The fraction is over every value of every example of the step's forwards.
- ReLU family (relu, relu6, leaky_relu, elu, gelu, silu): a unit is dead when its output is
  ≤ 0 for every example of the step (every micro-batch under accumulation): ReLU passes back
  nothing there, the others only their small negative slope.
Only forwards with gradients on count: an evaluation under torch.no_grad() does not.
A module called several times per forward (one nn.ReLU reused after every layer) counts each
call's units separately: its k-th call in one forward is the same unit set in every forward of
the step; the root model's forward starts the count again.
"""

from __future__ import annotations

from vgrad.core.watch.layers import SATURATING

SIGMOID_SLOPE = 0.01    # σ'(z) below this: saturated
TANH_LEVEL = 0.97       # |tanh(z)| above this: saturated


class Activations:
    """The hooks and counts of one recorded step's forwards."""

    def __init__(self, torch, model, found: list[tuple[str, object, str]]) -> None:
        self._torch = torch
        self._model = model
        self.names = [name for name, _, _ in found]
        self.kinds = [kind for _, _, kind in found]
        self._modules = [module for _, module, _ in found]
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
                alive = list(self._alive[index].values())
                plan.append((0, sum(a.numel() for a in alive), False, len(alive)))
                parts += [a.numel() - a.sum() for a in alive]
        self.reset()
        return parts, plan

    def reset(self) -> None:
        """Forget the counts so far."""
        self._saturated: list[list] = [[] for _ in self._modules]
        self._values = [0] * len(self._modules)
        self._alive: list[dict] = [{} for _ in self._modules]
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
            if kind in SATURATING:   # σ'(z) = a − a·a below the slope; |a| above the level
                flat = (torch.addcmul(a, a, a, value=-1).lt_(SIGMOID_SLOPE) if kind == "sigmoid"
                        else a.abs().gt_(TANH_LEVEL))
                self._saturated[index].append(flat.count_nonzero())
                self._values[index] += a.numel()
                if len(self._saturated[index]) > 64:   # many calls: keep one running sum
                    self._saturated[index] = [torch.stack(self._saturated[index]).sum()]
                return
            live = (a > 0).reshape(a.shape[0], -1).any(dim=0) if a.dim() > 1 else a > 0   # (units,)
            key = (call, live.shape[0])
            before = self._alive[index].get(key)
            self._alive[index][key] = live if before is None else before | live
        return count
