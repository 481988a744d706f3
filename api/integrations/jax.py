"""Record a JAX gradient pytree as a vgrad run: one layer per module path, through `vgrad.Recorder`.

    recorder = GradientRecorder("run.jsonl", params, every=10)      # params: the model's pytree
    loss, grads = jax.value_and_grad(loss_fn)(params, batch)
    recorder.log(step, grads, loss=loss)                            # outside jit
  or, inside a jitted step, as the first link of the optimizer:
    optimizer = optax.chain(recorder.transformation(), optax.adamw(1e-3))

A layer is the path to a dict (or attribute, or list entry) that holds arrays: flax's
`{"params": {"Dense_0": {"kernel": …, "bias": …}}}` gives layer "Dense_0", haiku's
`{"mlp/~/linear_0": {"w": …, "b": …}}` layer "mlp/~/linear_0". Layers keep the order in which the
dicts hold them (module creation order; jax itself sorts dict keys). Per layer: speed = ‖∂L/∂b‖₂
over its bias-like leaves (`bias`, `b`, `bias_*`, `*_bias`), weight_grad = ‖∂L/∂W‖₂ over its
other floating leaves, and the first entries of its first bias. The norms are computed on the
device by one compiled function; one host transfer per record.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from vgrad.integrations import require

require("jax", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from vgrad.core.errors import InputError  # noqa: E402
from vgrad.core.record.step import NEURONS_SHOWN  # noqa: E402
from vgrad.core.watch import Recorder  # noqa: E402

ROOT = "(root)"   # the layer of leaves that sit at the top of the tree
INSIDE_JIT = ("GradientRecorder.log: called inside jit; record there with recorder.transformation() as the first "
              "link of the optax chain")


class GradientRecorder:
    """A run file for a JAX model whose parameters have the structure of `params`."""

    def __init__(self, path: str | Path, params: Any, *, every: int = 1, name: str | None = None,
                 overwrite: bool = False) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise InputError(f"GradientRecorder: every={every!r} must be a whole number ≥ 1")
        tree = _unwrap(params)
        self.every = every
        self._structure = jax.tree_util.tree_structure(tree)
        self._layers = _layers(tree)
        if not self._layers:
            raise InputError("GradientRecorder: params holds no floating-point array: there is no gradient to record")
        self._norms = jax.jit(self._vector)
        self._held: tuple | None = None     # the transformation's latest record, not yet written
        self._holding = threading.Lock()
        self._transformed = False           # whether transformation() was asked for
        self.recorder = Recorder(path, [layer.name for layer in self._layers], name=name, overwrite=overwrite,
                                 source="vgrad.integrations.jax", **_lens(self._layers))
        self.recorder.before_close(self._release)   # the held record is written however the file closes

    @property
    def path(self) -> Path:
        return self.recorder.path

    def log(self, step: int, grads: Any, *, loss: Any = None, accuracy: Any = None) -> None:
        """Record the gradient pytree `grads` (shaped like the params) as step `step`, every
        `every`-th step. Call it outside jit; inside, use `transformation()`."""
        if isinstance(step, jax.core.Tracer):
            raise InputError(INSIDE_JIT)
        if step % self.every:
            return
        leaves = self._leaves(grads)
        if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
            raise InputError(INSIDE_JIT)
        self._write(step, np.asarray(jax.device_get(self._norms(leaves))), loss, accuracy)

    def transformation(self) -> Any:
        """An optax GradientTransformation that records the updates it receives and passes them on
        unchanged. First in a chain, the updates are the gradients. The step is its own count of
        steps taken, kept in its state. Inside `optax.MultiSteps`, which calls it on every
        micro-batch with the running mean and keeps its state only on the real step, the last
        call of each step is the one recorded (the accumulated mean): each record is written when
        the next one arrives, or at `close`. Under `optax.apply_if_finite` a rejected step is
        never recorded (the wrapper does not call it). The loss comes as optax's extra argument
        `value` (`optimizer.update(grads, state, params, value=loss)`), where the caller gives it."""
        import optax

        self._transformed = True

        def init(params: Any) -> _Count:
            return _Count(jnp.zeros([], jnp.int32))

        def update(updates: Any, state: _Count, params: Any = None, *, value: Any = None,
                   **extra: Any) -> tuple[Any, _Count]:
            def record() -> None:
                jax.debug.callback(self._hold, state.count, self._vector(self._leaves(updates)), value)

            jax.lax.cond(state.count % self.every == 0, record, lambda: None)
            return updates, _Count(state.count + 1)

        return optax.GradientTransformationExtraArgs(init, update)

    def close(self) -> None:
        self._release()
        self.recorder.close()

    def __enter__(self) -> GradientRecorder:
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        self._release()
        self.recorder.__exit__(kind, error, traceback)

    def _hold(self, count: Any, values: Any, loss: Any) -> None:
        """Keep the transformation's record of step `count`, replacing one of the same step (an
        earlier micro-batch), and write the one held before it if that was another step."""
        with self._holding:
            held, self._held = self._held, (int(count), np.asarray(values), loss)
        if held is not None and held[0] != int(count):
            self._write(*held)

    def _release(self) -> None:
        """Write the held record, once every callback the transformation queued has run."""
        if self._transformed:
            jax.effects_barrier()
        with self._holding:
            held, self._held = self._held, None
        if held is not None:
            self._write(*held)

    def _leaves(self, grads: Any) -> list[Any]:
        """The floating leaves of `grads`, in the order the layers read them."""
        tree = _unwrap(grads)
        structure = jax.tree_util.tree_structure(tree)
        if structure != self._structure:
            raise InputError(f"GradientRecorder: the gradients' structure {structure} is not the params' "
                             f"{self._structure}")
        leaves = jax.tree_util.tree_leaves(tree)
        return [leaves[index] for layer in self._layers for index in layer.biases + layer.others]

    def _vector(self, leaves: list[Any]) -> Any:
        """Per layer ‖bias gradients‖₂ then ‖other gradients‖₂ (NaN where a layer has none), then
        the first entries of each layer's first bias, as one float32 (or wider) vector."""
        leaves = iter(leaves)
        norms, heads = [], []
        for layer in self._layers:
            biases = [next(leaves) for _ in layer.biases]
            others = [next(leaves) for _ in layer.others]
            norms += [_norm(biases), _norm(others)]
            if biases:
                heads.append(biases[0].reshape(-1)[:layer.head])
        wide = jnp.result_type(jnp.float32, *norms)
        return jnp.concatenate([jnp.stack(norms).astype(wide)] + [h.astype(wide) for h in heads])

    def _write(self, step: Any, values: Any, loss: Any = None, accuracy: Any = None) -> None:
        """Lay one vector of `_vector` out as a record."""
        values = np.asarray(values, dtype=np.float64)
        count = len(self._layers)
        pairs = values[:2 * count].reshape(count, 2)
        speed = [float(b) if layer.biases else None for (b, _), layer in zip(pairs, self._layers)]
        weight = [float(w) if layer.others else None for (_, w), layer in zip(pairs, self._layers)]
        heads, start = [], 2 * count
        for layer in self._layers:
            heads.append(values[start:start + layer.head].tolist())
            start += layer.head
        self.recorder.log(int(step), speed=speed, weight_grad=weight, neurons=heads, loss=loss, accuracy=accuracy)


class _Count(NamedTuple):
    count: Any   # int32 scalar: update calls so far


class _Layer(NamedTuple):
    name: str
    biases: list[int]    # indices into the tree's leaves
    others: list[int]
    head: int            # entries of the first bias shown


def _lens(layers: list[_Layer]) -> dict[str, str]:
    """The lens the viewer opens on, as vgrad.watch chooses it: "weight" when more than half of
    the layers have no bias (a bias-free model shows nothing on the bias lens), else "bias".
    Empty while the Recorder does not take `lens=` yet (the run-format 3 contract adds it)."""
    if "lens" not in inspect.signature(Recorder).parameters:
        return {}
    without = sum(not layer.biases for layer in layers)
    return {"lens": "weight" if 2 * without > len(layers) else "bias"}


def _unwrap(tree: Any) -> Any:
    """A flax variables dict without its lone "params" collection."""
    if isinstance(tree, Mapping) and list(tree) == ["params"]:
        return tree["params"]
    return tree


def _layers(tree: Any) -> list[_Layer]:
    """The tree's floating leaves grouped by the path of their parent, in insertion order."""
    paths = jax.tree_util.tree_flatten_with_path(tree)[0]
    groups: dict[tuple[str, ...], _Layer] = {}
    ranks = {}
    for index, (path, leaf) in enumerate(paths):
        if not (hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating)):
            continue
        names = tuple(_key_name(key) for key in path)
        layer = groups.setdefault(names[:-1], _Layer("/".join(names[:-1]) or ROOT, [], [], 0))
        ranks.setdefault(names[:-1], (_insertion_rank(tree, path[:-1]), index))
        if names and _bias_like(names[-1]):
            if not layer.biases:
                groups[names[:-1]] = layer = layer._replace(head=min(NEURONS_SHOWN, int(np.size(leaf))))
            layer.biases.append(index)
        else:
            layer.others.append(index)
    return [groups[key] for key in sorted(groups, key=ranks.__getitem__)]


def _key_name(key: Any) -> str:
    for attribute in ("key", "name", "idx"):
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def _bias_like(name: str) -> bool:
    return name in ("bias", "b") or name.startswith("bias") or name.endswith("_bias")


def _insertion_rank(tree: Any, path: tuple) -> tuple[int, ...]:
    """Where `path` lies in `tree` with mappings read in insertion order (jax sorts their keys);
    past an attribute or custom node, the caller's jax order decides."""
    rank, node = [], tree
    for key in path:
        if hasattr(key, "key") and isinstance(node, Mapping):
            rank.append(list(node).index(key.key))
            node = node[key.key]
        elif hasattr(key, "idx") and isinstance(node, (list, tuple)):
            rank.append(key.idx)
            node = node[key.idx]
        else:
            break
    return tuple(rank)


def _norm(leaves: list[Any]) -> Any:
    """‖leaves‖₂ taken together, in float32 at least; NaN for no leaves (the caller writes None)."""
    if not leaves:
        return jnp.float32(jnp.nan)
    return jnp.sqrt(sum(jnp.sum(jnp.square(leaf.astype(jnp.promote_types(leaf.dtype, jnp.float32))))
                        for leaf in leaves))
