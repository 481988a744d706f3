"""vgrad: watch the vanishing gradient problem happen, in the book's nets or in your own model.

    import vgrad
    with vgrad.watch(model, "run.jsonl", optimizer=optimizer):   # a PyTorch nn.Module
        ...; loss.backward(); optimizer.step()                  # recorded at the step

or, without `optimizer=`, `watcher.log(step, loss=loss)` after `loss.backward()`, before the step;
then `vgrad-tui watch run.jsonl` in another terminal. `vgrad.Recorder` serves any other loop.
Importing vgrad loads neither torch nor the dashboard, and watching loads no numba.
"""

from vgrad.core import __version__
from vgrad.core.watch import Recorder, watch

__all__ = ["Recorder", "watch", "__version__"]
