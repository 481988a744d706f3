"""One net's trainer: its parameters, preallocated buffers and packed probe set, with the numba
kernels as methods (a full-batch step, SGD batches, the probe that measures s_l and ∂C/∂b).
The experiments that drive it are in experiment.py.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from vgrad.core.config import Config
from vgrad.core.data import Dataset, one_hot
from vgrad.core.engine import kernels
from vgrad.core.engine.kernel_set import SIMD
from vgrad.core.engine.net import B_OFF, N_IN, N_OUT, W_OFF, activation_code, cost_code, init_params, make_layout
from vgrad.core.engine.simd import panels, sparse
from vgrad.core.engine.simd.buffers import aligned, aligned_empty
from vgrad.core.engine.structs import Hyper, Net, Panels, make_buffers, no_panels
from vgrad.core.record.step import NEURONS_SHOWN, StepRecord
from vgrad.core.spec import NetSpec


class Trainer:
    """One net's parameters and preallocated buffers, with the kernels as methods.

    It owns the kernels' arguments (structs.py): `net`, `buffers`, `hyper` and the shared,
    packed probe set `panels`.
    """

    def __init__(self, spec: NetSpec, data: Dataset, config: Config, net_index: int = 0):
        self.spec = spec.with_input(data.n_inputs, data.n_classes)
        self.config = config
        self.net_index = net_index
        dtype = np.dtype(config.dtype)
        self.layout = make_layout(self.spec)
        self.table = self.layout.table
        self.rng = np.random.default_rng(config.seed)
        self.params = aligned(init_params(self.spec, self.rng, probe_x=data.probe_x,
                                          explode_w=config.explode_w, dtype=dtype))
        self.probe_x = _shared_array(data.probe_x, dtype)
        self.probe_y = _shared_one_hot(data.probe_y, data.n_classes, dtype)
        if config.mode == "sgd":
            # shared by every net in the dataset's own (float32) dtype; sgd_steps casts each batch
            self.train_x = np.ascontiguousarray(data.train_x)
            self.train_y = _shared_one_hot(data.train_y, data.n_classes, dtype)
            self.test_x = data.test_x
            self.test_y = np.ascontiguousarray(data.test_y, dtype=np.int64)
            self.n_train = len(self.train_x)
        else:
            self.n_train = len(self.probe_x)
        self.steps_done = 0
        self.panels = _packed_probe_set(self.probe_x, data.probe_x, dtype)
        rows, n_inputs = self.probe_x.shape
        scratch = 0
        if self.panels.x_panels.size:
            scratch = panels.scratch_size(int(self.table[0, N_OUT]), n_inputs, rows, dtype)
        elif self.panels.sparse:
            scratch = sparse.scratch_size(int(self.table[0, N_OUT]), n_inputs, rows, dtype)
        # the thin products are faster than BLAS at every batch size measured, where they run
        self.buffers = make_buffers(self.layout, max(rows, config.batch_size), config.batch_size, dtype,
                                    thin=SIMD, panel_scratch=scratch)
        self.grads = self.buffers.grads
        self.net = Net(self.params, self.table, activation_code(self.spec), cost_code(self.spec))
        self.hyper = Hyper(eta=config.eta, lmbda=config.lmbda, clip=config.clip, n_train=self.n_train,
                           batch_size=config.batch_size)

    def gradient(self) -> int:
        """The full-batch gradient on the probe set into self.grads; returns the output's start."""
        return kernels.probe_gradient(self.net, self.buffers, self.probe_x, self.probe_y, self.panels)

    def probe(self) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...], float]:
        """Gradient on the probe set, no update: (s_l per hidden layer, six ∂C/∂b per layer, cost).

        The gradient stays in self.grads for the step that follows and for weight_grads().
        """
        out_start = self.gradient()
        cost = kernels.probe_summary(self.net, self.buffers, self.probe_y, out_start,
                                     0.5 * self.config.lmbda / self.n_train)
        neurons = tuple(tuple(self.grads[b_off:b_off + min(NEURONS_SHOWN, n_out)].tolist())
                        for b_off, n_out in self.table[:-1, [B_OFF, N_OUT]])
        return tuple(self.buffers.speeds.tolist()), neurons, float(cost)

    def weight_grads(self) -> tuple[float, ...]:
        """The weight lens of the last probe(): ‖(1/N) Σ_x ∂C_x/∂W^l‖₂ per hidden layer (no L2 term).

        A diverging net's norm overflows to inf, which is the honest value: no warning for it.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return tuple(float(np.linalg.norm(self.grads[w_off:w_off + n_out * n_in]))
                         for w_off, n_out, n_in in self.table[:-1, [W_OFF, N_OUT, N_IN]])

    def full_batch_step(self) -> None:
        """One gradient-descent step with the gradient the last probe() computed."""
        kernels.update(self.net, self.buffers, self.hyper)
        self.steps_done += 1

    def sgd_batches(self, order: np.ndarray, first_batch: int, n_batches: int) -> bool:
        """Train on n_batches mini-batches of `order`; False if a parameter became non-finite."""
        ok = kernels.sgd_steps(self.net, self.buffers, self.hyper, self.train_x, self.train_y, order,
                               first_batch, n_batches)
        self.steps_done += n_batches
        return bool(ok)

    def accuracy(self) -> float:
        """Fraction of the test set classified correctly."""
        chunk = len(self.probe_x)
        correct = 0
        for start in range(0, len(self.test_x), chunk):
            rows = np.ascontiguousarray(self.test_x[start:start + chunk], dtype=self.params.dtype)
            correct += kernels.count_correct(self.net, self.buffers, rows, self.test_y[start:start + chunk])
        return correct / len(self.test_x)

    def measure(self, epoch: int, accuracy: float | None = None) -> StepRecord:
        """The StepRecord of the net as it is now: s_l, ∂C/∂b, cost and ‖∂C/∂W‖ on the probe set."""
        speed, neurons, cost = self.probe()
        return StepRecord(net=self.net_index, epoch=epoch, step=self.steps_done, speed=speed,
                          neurons=neurons, cost=cost, accuracy=accuracy, weight_grad=self.weight_grads())


_SHARED: OrderedDict = OrderedDict()  # (id of a dataset array, what, dtype) → (source, derived)
_SHARED_KEEP = 8
_SHARED_LOCK = threading.Lock()


def _shared(source: np.ndarray, what: str, dtype, convert):
    """convert(source), made once per (array, what, dtype) and shared by every net of a run:
    four nets on full MNIST would otherwise each hold their own copies. The entry keeps
    `source` alive, so its id cannot be reused while the entry exists."""
    key = (id(source), what, np.dtype(dtype).str)
    with _SHARED_LOCK:
        hit = _SHARED.get(key)
        if hit is not None and hit[0] is source:
            _SHARED.move_to_end(key)
            return hit[1]
        value = convert()
        _SHARED[key] = (source, value)
        while len(_SHARED) > _SHARED_KEEP:
            _SHARED.popitem(last=False)
        return value


def _shared_array(x: np.ndarray, dtype) -> np.ndarray:
    return _shared(x, "array", dtype, lambda: aligned(x, dtype))


def _shared_one_hot(labels: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    return _shared(labels, f"one_hot{n_classes}", dtype,
                   lambda: aligned(one_hot(labels, n_classes), dtype))


def _packed_probe_set(probe_x: np.ndarray, source: np.ndarray, dtype: np.dtype) -> Panels:
    """The Panels of a probe set, made once and shared by every net on it.

    The probe set never changes, so it is compressed (or packed, and its transpose) once for
    the SIMD first layer; the book's three nets, or reproduce's 60 runs, read the same copy,
    which also keeps their working set small when they share two cores. Zero pixels add
    nothing to z¹ and nothing to ∂C/∂W¹: compressed, only the nonzero ones are multiplied
    (19 % of the book's 1000 images); packed, the input columns zero in every image (175 of
    MNIST's 784) are left out. `source` (the dataset's own array) is the key.
    """
    return _shared(source, "packed", dtype, lambda: _pack_probe_set(probe_x, dtype))


def _pack_probe_set(probe_x: np.ndarray, dtype: np.dtype) -> Panels:
    """Compressed when at most SPARSE_DENSITY of the used pixels are nonzero (MNIST's are 24 %),
    else packed; all empty with the portable kernel set (kernel_set.py)."""
    rows, _ = probe_x.shape
    inputs = np.flatnonzero(np.any(probe_x != 0, axis=0)).astype(np.int64)
    empty = no_panels(dtype)
    if not SIMD or not len(inputs):
        return empty._replace(inputs=inputs)
    used = np.ascontiguousarray(probe_x[:, inputs])
    if np.count_nonzero(used) <= sparse.SPARSE_DENSITY * used.size:
        return empty._replace(inputs=inputs, rows=sparse.compress(probe_x, dtype),
                              columns=sparse.compress(np.ascontiguousarray(probe_x.T), dtype))
    x_panels = aligned_empty(panels.packed_size(rows, len(inputs), dtype), dtype)
    xt_panels = aligned_empty(panels.packed_size(len(inputs), rows, dtype), dtype)
    panels.pack_panels(used, x_panels)
    panels.pack_panels(np.ascontiguousarray(used.T), xt_panels)
    return empty._replace(inputs=inputs, x_panels=x_panels, xt_panels=xt_panels)
