"""A Lightning callback that watches the LightningModule with `vgrad.watch`.

    trainer = lightning.Trainer(callbacks=[VgradCallback("run.jsonl", every=10)])

It records at `on_before_optimizer_step`: after the backward pass and, under 16-bit AMP, after
Lightning has unscaled the gradients, before gradient clipping; once per optimizer step under
`accumulate_grad_batches`; never for a step that AMP's GradScaler skips (an inf/NaN gradient).
The step is `trainer.global_step`, the optimizer steps taken before this one; its loss is the
training step's, summed over the micro-batches as Lightning scales them (their mean). Only global rank 0
writes (DDP has averaged the gradients there); a model sharded by FSDP2 is watched on every rank,
as `vgrad.watch` asks.

The watcher is not handed the optimizer: Lightning passes the training step to
`optimizer.step(closure)`, so an optimizer step pre-hook would run before that step's backward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vgrad.integrations import require, watch_options, watches_here

require("lightning", "lightning")

import lightning.pytorch as pl  # noqa: E402

import vgrad  # noqa: E402


class VgradCallback(pl.Callback):
    """Write the module's per-layer gradient norms to `path` while `trainer.fit` runs.

    `every`, `name`, `overwrite` and any other keyword go to `vgrad.watch`."""

    def __init__(self, path: str | Path, *, every: int = 1, name: str | None = None, overwrite: bool = False,
                 **options: Any) -> None:
        self.path = Path(path)
        self.options = watch_options("lightning VgradCallback", dict(every=every, name=name, overwrite=overwrite,
                                                                     **options))
        self.watcher: Any = None
        self.loss: Any = None   # the step's loss so far, summed over its micro-batches

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if watches_here(pl_module, trainer.is_global_zero):
            self.watcher = vgrad.watch(pl_module, self.path, **self.options)

    def on_before_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: Any) -> None:
        """Each micro-batch's loss, as Lightning scales it (÷ accumulate_grad_batches): their sum is
        the step's mean loss."""
        if self.watcher is not None:
            loss = loss.detach()
            self.loss = loss if self.loss is None else self.loss + loss

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        loss, self.loss = self.loss, None
        if self.watcher is not None and not _will_skip(trainer, optimizer):
            self.watcher.log(trainer.global_step, loss=loss)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close(None)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._close(exception)

    def _close(self, error: BaseException | None) -> None:
        """End the run file: complete, or stopped with the error that ended the fit."""
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.__exit__(None if error is None else type(error), error, None)


def _will_skip(trainer: pl.Trainer, optimizer: Any) -> bool:
    """Whether AMP's GradScaler will skip this optimizer step: its `unscale_`, which Lightning ran
    before this hook, found an inf or NaN gradient. False without a scaler, or before unscaling."""
    scaler = getattr(trainer.precision_plugin, "scaler", None)
    if scaler is None or not scaler.is_enabled():
        return False
    try:
        found = scaler._found_inf_per_device(optimizer)   # torch's record of this step's unscale_
    except (AttributeError, KeyError):
        return False
    return any(bool(flag.item()) for flag in found.values())
