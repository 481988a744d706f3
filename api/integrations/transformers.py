"""A Hugging Face `TrainerCallback` that watches the Trainer's model with `vgrad.watch`.

    trainer = Trainer(model, args, train_dataset=data, callbacks=[VgradCallback("run.jsonl", every=10)])

It records the gradients each optimizer step uses: once per optimizer step under
`gradient_accumulation_steps`, unscaled under fp16 AMP (the GradScaler's step unscales them in
place), and clipped to `max_grad_norm` (on by default, 1.0) when the Trainer clips. A step the
GradScaler skips (an inf/NaN gradient) is not recorded. The step is `state.global_step`, the
optimizer steps taken before this one. When the Trainer's optimizer is a torch optimizer over the
model's parameters (accelerate's AcceleratedOptimizer wraps one: the usual case), the watcher is
handed it and records at its step with the update ratio ‖Δθ‖/‖θ‖ per layer; otherwise (DeepSpeed,
a model wrapped so that the optimizer holds other parameters) it records at `on_optimizer_step`,
after the step and before the gradients are zeroed, without the update ratio. With the optimizer,
the loss the Trainer logs (every `logging_steps`, its mean since the last log) joins the record of
the step it is logged at. Only the world's
process zero watches, or every process for a model sharded by FSDP2, as `vgrad.watch` asks (rank 0
writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vgrad.integrations import require, watch_options, watches_here

require("transformers", "transformers")

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments  # noqa: E402

import vgrad  # noqa: E402


class VgradCallback(TrainerCallback):
    """Write the model's per-layer gradient norms to `path` while `trainer.train()` runs.

    `every`, `name`, `overwrite` and any other keyword go to `vgrad.watch`."""

    def __init__(self, path: str | Path, *, every: int = 1, name: str | None = None, overwrite: bool = False,
                 **options: Any) -> None:
        self.path = Path(path)
        self.options = watch_options("transformers VgradCallback", dict(every=every, name=name, overwrite=overwrite,
                                                                        **options))
        self.watcher: Any = None
        self.at_step = False   # the watcher records at the optimizer's own step

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       model: Any = None, optimizer: Any = None, **kwargs: Any) -> None:
        if watches_here(model, state.is_world_process_zero):
            inner = _torch_optimizer(optimizer, model)
            self.at_step = inner is not None
            self.watcher = vgrad.watch(model, self.path, **self.options,
                                       **({"optimizer": inner} if self.at_step else {}))
            self.watcher.number_next(state.global_step)   # numbered as the Trainer's steps, resumed too

    def on_optimizer_step(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                          optimizer: Any = None, **kwargs: Any) -> None:
        # accelerate's AcceleratedOptimizer tells whether the GradScaler skipped the step
        if self.watcher is None:
            return
        if self.at_step:   # recorded in the step; the Trainer counts a skipped step too
            self.watcher.number_next(state.global_step + 1)
        elif not getattr(optimizer, "step_was_skipped", False):
            self.watcher.log(state.global_step)

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict | None = None, **kwargs: Any) -> None:
        """The Trainer's logged training loss (its mean since the last log, every `logging_steps`)
        joins the record of the step it was logged at, when the watcher records at the step."""
        loss = (logs or {}).get("loss")
        if self.watcher is not None and self.at_step and isinstance(loss, (int, float)):
            self.watcher.log(state.global_step, loss=loss)

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                     **kwargs: Any) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.close()


def _torch_optimizer(optimizer: Any, model: Any) -> Any:
    """The torch optimizer the Trainer steps (inside accelerate's wrapper), when it updates only
    parameters of `model`; else None."""
    import torch

    inner = getattr(optimizer, "optimizer", optimizer)
    if not isinstance(inner, torch.optim.Optimizer):
        return None
    own = {id(p) for p in model.parameters()}
    return inner if all(id(p) in own for group in inner.param_groups for p in group["params"]) else None
