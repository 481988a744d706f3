"""vgrad: watch the vanishing gradient problem happen, in the book's nets or in your own model.

    import vgrad
    with vgrad.watch(model, "run.jsonl") as watcher:     # a PyTorch nn.Module
        ...; loss.backward(); watcher.log(step, loss=loss); optimizer.step()

and `vgrad-tui watch run.jsonl` in another terminal. `vgrad.Recorder` serves any other loop.
Bad arguments raise `vgrad.InputError` (a ValueError) with a one-line reason.
Importing vgrad loads neither torch nor the dashboard.
"""

from vgrad.core import __version__
from vgrad.core.errors import InputError
from vgrad.core.watch import Recorder, watch

__all__ = ["InputError", "Recorder", "watch", "__version__"]
