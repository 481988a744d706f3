"""The implementations the engine is timed against, each holding its own copy of the same
initial weights: the engine itself, batched numpy, and the book's per-example algorithm
(PyTorch is in torch_peer.py; the interface they share in peer.py).
"""

from __future__ import annotations

import numpy as np

from vgrad.bench.peer import Peer
from vgrad.bench.problem import ETA, LMBDA, Problem, matmul_flops_per_example
from vgrad.core.config import Config
from vgrad.core.data import one_hot
from vgrad.core.engine.activations import sigmoid


class EnginePeer(Peer):
    """The vgrad engine exactly as the app runs it (Trainer's buffers and kernels)."""

    name = "vgrad"

    def __init__(self, problem: Problem, dtype: str):
        from vgrad.core.engine import kernels
        from vgrad.core.train.trainer import Trainer

        self.kernels = kernels
        config = Config(mode="sgd", dtype=dtype, batch_size=problem.batch, eta=ETA, lmbda=LMBDA)
        self.trainer = Trainer(problem.spec, problem.data, config)
        self.trainer.params[:] = problem.params.astype(dtype)
        self.full_batch = self.trainer.hyper._replace(n_train=len(self.trainer.probe_x))
        self.dtype = np.dtype(dtype)
        self.sizes = problem.spec.sizes

    def flops_per_example(self, batch: int) -> int:
        """At full batch the first layer leaves out the probe set's zeros: its all-zero input
        columns (packed), or every zero pixel (compressed)."""
        full = matmul_flops_per_example(self.sizes)
        panels = self.trainer.panels
        if batch != len(self.trainer.probe_x):
            return full
        first_layer = 4 * self.sizes[1] * self.sizes[0]   # z¹ and ∂C/∂W¹, 2·n¹ FLOPs per pixel each
        if panels.sparse:
            return full - first_layer + round(4 * self.sizes[1] * panels.rows.values.size / batch)
        if panels.x_panels.size:
            return full - first_layer + 4 * self.sizes[1] * len(panels.inputs)
        return full

    def sgd(self, order, first, count):
        self.trainer.sgd_batches(order, first, count)

    def full_batch_step(self):
        t = self.trainer
        t.gradient()
        self.kernels.update(t.net, t.buffers, self.full_batch)

    def gradient(self, x, y):
        t, k = self.trainer, self.kernels
        if x.shape == t.probe_x.shape and np.array_equal(x, t.probe_x):  # the timed full-batch path
            t.gradient()
        else:
            x, y = np.ascontiguousarray(x, self.dtype), np.ascontiguousarray(y, self.dtype)
            k.forward(t.net, t.buffers, x)
            k.backward(t.net, t.buffers, x, y)
        return t.grads.astype(np.float64)


class _Layers:
    """Per-layer W (n_out, n_in) and b (n_out, 1) arrays cut from the flat vector."""

    def __init__(self, problem: Problem, dtype: str):
        layout = problem.layout
        self.layout = layout
        self.sizes = problem.spec.sizes
        self.dtype = np.dtype(dtype)
        self.w = [layout.weight(problem.params, layer).astype(dtype) for layer in range(layout.n_layers)]
        self.b = [layout.bias(problem.params, layer).astype(dtype).reshape(-1, 1)
                  for layer in range(layout.n_layers)]

    def flat(self, grads_w, grads_b) -> np.ndarray:
        """Per-layer gradients as one flat float64 vector in the engine's layout."""
        out = np.zeros(self.layout.n_params)
        for layer in range(self.layout.n_layers):
            self.layout.weight(out, layer)[:] = grads_w[layer]
            self.layout.bias(out, layer)[:] = np.ravel(grads_b[layer])
        return out


class NumpyPeer(_Layers, Peer):
    """Batched numpy: one matmul per layer per batch; activations are (features, batch)."""

    name = "numpy"

    def __init__(self, problem: Problem, dtype: str):
        _Layers.__init__(self, problem, dtype)
        data, n_classes = problem.data, problem.data.n_classes
        self.train_xt = np.ascontiguousarray(data.train_x.T, dtype=dtype)           # (784, n)
        self.train_yt = np.ascontiguousarray(one_hot(data.train_y, n_classes).T, dtype=dtype)
        self.probe_xt = np.ascontiguousarray(data.probe_x.T, dtype=dtype)
        self.probe_yt = np.ascontiguousarray(one_hot(data.probe_y, n_classes).T, dtype=dtype)
        self.n_train, self.n_probe = data.train_x.shape[0], data.probe_x.shape[0]
        self.batch = problem.batch

    def _gradients(self, x, y):
        """Mean ∂C/∂W and ∂C/∂b over the columns of x (one example per column)."""
        activations = [x]
        for w, b in zip(self.w, self.b):
            z = w @ activations[-1]
            z += b
            activations.append(sigmoid(z))
        delta = activations[-1] - y
        batch = x.shape[1]
        grads_w, grads_b = [None] * len(self.w), [None] * len(self.w)
        for layer in range(len(self.w) - 1, -1, -1):
            grads_w[layer] = (delta @ activations[layer].T) / batch
            grads_b[layer] = delta.sum(axis=1, keepdims=True) / batch
            if layer > 0:
                a = activations[layer]
                delta = (self.w[layer].T @ delta) * (a * (1.0 - a))
        return grads_w, grads_b

    def update(self, grads_w, grads_b, n):
        """W ← (1 − ηλ/n)W − η∂C/∂W, b ← b − η∂C/∂b, in place."""
        decay = 1.0 - ETA * LMBDA / n
        for w, b, gw, gb in zip(self.w, self.b, grads_w, grads_b):
            w *= decay
            w -= ETA * gw
            b -= ETA * gb

    def sgd(self, order, first, count):
        for index in range(first, first + count):
            rows = order[index * self.batch:(index + 1) * self.batch]
            self.update(*self._gradients(self.train_xt[:, rows], self.train_yt[:, rows]), self.n_train)

    def full_batch_step(self):
        self.update(*self._gradients(self.probe_xt, self.probe_yt), self.n_probe)

    def probe_gradients(self):
        """∂C/∂W and ∂C/∂b of every layer on the probe set (for the speed experiment's s_l)."""
        return self._gradients(self.probe_xt, self.probe_yt)

    def gradient(self, x, y):
        return self.flat(*self._gradients(np.ascontiguousarray(x.T, self.dtype),
                                          np.ascontiguousarray(y.T, self.dtype)))


class BookPeer(_Layers, Peer):
    """The book's network2 algorithm, written from its description: every example is a
    column vector; backprop runs once per example and its ∇b, ∇W are added up over the
    mini-batch; then W ← (1 − ηλ/n)W − (η/m)ΣW, b ← b − (η/m)Σb."""

    name = "book"

    def __init__(self, problem: Problem, dtype: str):
        _Layers.__init__(self, problem, dtype)
        data, n_classes = problem.data, problem.data.n_classes
        # network2 keeps its data as a list of (x, y) column-vector pairs
        self.training = self._pairs(data.train_x, one_hot(data.train_y, n_classes), dtype)
        self.probe = self._pairs(data.probe_x, one_hot(data.probe_y, n_classes), dtype)
        self.batch = problem.batch

    @staticmethod
    def _pairs(x, y, dtype):
        return [(xi.reshape(-1, 1).astype(dtype), yi.reshape(-1, 1).astype(dtype)) for xi, yi in zip(x, y)]

    def _backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for w, b in zip(self.w, self.b):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_w = [None] * len(self.w)
        nabla_b = [None] * len(self.w)
        delta = activations[-1] - y                      # cross-entropy: δ^L = a − y
        for layer in range(len(self.w) - 1, -1, -1):
            nabla_b[layer] = delta
            nabla_w[layer] = np.dot(delta, activations[layer].T)
            if layer > 0:
                s = sigmoid(zs[layer - 1])
                delta = np.dot(self.w[layer].T, delta) * s * (1 - s)
        return nabla_b, nabla_w

    def _sums(self, pairs):
        sum_b = [np.zeros(b.shape, dtype=self.dtype) for b in self.b]
        sum_w = [np.zeros(w.shape, dtype=self.dtype) for w in self.w]
        for x, y in pairs:
            delta_b, delta_w = self._backprop(x, y)
            sum_b = [s + d for s, d in zip(sum_b, delta_b)]
            sum_w = [s + d for s, d in zip(sum_w, delta_w)]
        return sum_b, sum_w

    def _update_mini_batch(self, pairs, n):
        sum_b, sum_w = self._sums(pairs)
        m = len(pairs)
        self.w = [(1 - ETA * (LMBDA / n)) * w - (ETA / m) * s for w, s in zip(self.w, sum_w)]
        self.b = [b - (ETA / m) * s for b, s in zip(self.b, sum_b)]

    def sgd(self, order, first, count):
        for index in range(first, first + count):
            rows = order[index * self.batch:(index + 1) * self.batch]
            self._update_mini_batch([self.training[i] for i in rows], len(self.training))

    def full_batch_step(self):
        self._update_mini_batch(self.probe, len(self.probe))

    def gradient(self, x, y):
        pairs = self._pairs(x, y, self.dtype)
        sum_b, sum_w = self._sums(pairs)
        return self.flat([s / len(pairs) for s in sum_w], [s / len(pairs) for s in sum_b])


def peer_classes() -> dict[str, type[Peer]]:
    """Every peer by name, in the bench's order (torch last; it imports torch only when built)."""
    from vgrad.bench.torch_peer import TorchPeer

    return {"vgrad": EnginePeer, "numpy": NumpyPeer, "book": BookPeer, "torch": TorchPeer}
