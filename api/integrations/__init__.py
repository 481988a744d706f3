"""vgrad in other people's training loops: a Lightning callback, a Hugging Face TrainerCallback,
and a JAX/optax gradient recorder. Each module imports its framework only when it is imported
itself (`import vgrad.integrations.lightning`), so this package loads without any of them.

    vgrad.integrations.lightning      VgradCallback      pip install "vgrad[lightning]"
    vgrad.integrations.transformers   VgradCallback      pip install "vgrad[transformers]"
    vgrad.integrations.jax            GradientRecorder   pip install "vgrad[jax]"
"""


def require(module: str, extra: str) -> None:
    """Raise a one-line ImportError naming the extra that brings `module`, when it is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f'vgrad.integrations.{extra} needs {module}: pip install "vgrad[{extra}]"')
