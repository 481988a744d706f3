"""vgrad in other people's training loops: a Lightning callback, a Hugging Face TrainerCallback,
and a JAX/optax gradient recorder. Each module imports its framework only when it is imported
itself (`import vgrad.integrations.lightning`), so this package loads without any of them.

    vgrad.integrations.lightning      VgradCallback      pip install "vgrad[lightning]"
    vgrad.integrations.transformers   VgradCallback      pip install "vgrad[transformers]"
    vgrad.integrations.jax            GradientRecorder   pip install "vgrad[jax]"
"""


from typing import Any

from vgrad.core.errors import InputError


def require(module: str, extra: str) -> None:
    """Raise a one-line ImportError naming the extra that brings `module`, when it is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f'vgrad.integrations.{extra} needs {module}: pip install "vgrad[{extra}]"')


def watch_options(owner: str, options: dict[str, Any]) -> dict[str, Any]:
    """`options` for `vgrad.watch`, refusing `optimizer=`: the callback records at the framework's
    own optimizer-step hook, and a step hook on the optimizer would record a second time."""
    if "optimizer" in options:
        raise InputError(f"{owner}: leave out optimizer=, the callback records at the trainer's optimizer step itself")
    return options


def watches_here(model: Any, rank_zero: bool) -> bool:
    """Whether this process calls `vgrad.watch`: global rank 0 only (DDP has averaged the gradients
    there), or every rank when the parameters are sharded (FSDP2's DTensors: vgrad.watch then adds
    up the ranks' shards and rank 0 writes)."""
    return rank_zero or any(hasattr(p, "to_local") for p in model.parameters())
