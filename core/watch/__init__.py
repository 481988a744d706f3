"""Watch other people's models: `Recorder` for any loop, `watch` for a PyTorch module."""

from vgrad.core.watch.recorder import Recorder
from vgrad.core.watch.torch_watch import Watcher, watch

__all__ = ["Recorder", "Watcher", "watch"]
