"""The kernels' arguments as a few named tuples of arrays and numbers.

numba types a namedtuple by its fields (NamedUniTuple when they share one type, else
NamedTuple), loads kernels taking them from its on-disk cache in a fresh process, and
unboxes one in about a microsecond. jitclass and structref are avoided on purpose: a
kernel taking them is not cached across processes (numba#9659, #6522, #10021).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from vgrad.core.engine.batchnorm_reference import gamma_offsets
from vgrad.core.engine.net import N_OUT, NetLayout
from vgrad.core.engine.simd.buffers import aligned_empty


class Net(NamedTuple):
    """A net as the kernels see it."""

    params: np.ndarray  # flat W^l and b^l (net.py's layout), updated in place
    table: np.ndarray  # NetLayout.table, (L, 5) int64, columns net.W_OFF … net.RESIDUAL
    act_code: int  # activations.CODES
    cost_code: int  # activations.COST_CODES


class Buffers(NamedTuple):
    """A net's preallocated work arrays; only `speeds` is float64 whatever the params' dtype."""

    zs: np.ndarray  # z^l, a block of rows·n_l per layer l = 1..L (kernels.py's layouts)
    acts: np.ndarray  # a^l, same blocks
    deltas: np.ndarray  # δ^l, same blocks
    grad_acts: np.ndarray  # ∂C/∂a^l where a skip connection needs it, same blocks
    grads: np.ndarray  # ∂C/∂params, flat like params
    xb: np.ndarray  # the mini-batch's images, copied out of the training set
    yb: np.ndarray  # its one-hot labels
    transposes: np.ndarray  # thin_products' transposes, max n_l·batch; empty: SGD on BLAS
    panel_scratch: np.ndarray  # the first layer's on the probe set (panels.scratch_size, sparse.scratch_size)
    speeds: np.ndarray  # s_l = ‖∂C/∂b^l‖ per hidden layer, written by probe_summary


class Compressed(NamedTuple):
    """A sparse matrix by rows: row r's nonzeros are values[starts[r]:starts[r + 1]], in the
    columns index[starts[r]:starts[r + 1]], ascending (sparse.compress)."""

    starts: np.ndarray  # int64, rows + 1
    index: np.ndarray  # int64
    values: np.ndarray  # the params' dtype


class Panels(NamedTuple):
    """The probe set, kept for the first layer's products in one of two forms: packed for
    gemm_panels (panels.py), or, when most pixels are zero, compressed for sparse_product
    (sparse.py). All empty: the first layer on BLAS."""

    inputs: np.ndarray  # int64: the input columns not zero in every probe image
    x_panels: np.ndarray  # pack_panels(x[:, inputs])
    xt_panels: np.ndarray  # pack_panels(x[:, inputs]ᵀ)
    rows: Compressed  # x by rows (an image each)
    columns: Compressed  # xᵀ by rows (a pixel each)

    @property
    def sparse(self) -> bool:
        return self.rows.values.size > 0


class BatchNorm(NamedTuple):
    """What a batch-normalised net keeps besides Net and Buffers (batchnorm.py)."""

    gammas: np.ndarray  # int64: where each hidden layer's γ starts in params
    z_hats: np.ndarray  # ẑ = (z − μ_B)/√(σ²_B + ε), blocks like Buffers.zs
    ys: np.ndarray  # y = γẑ + β, same blocks
    dzs: np.ndarray  # B·∂C/∂z, same blocks
    means: np.ndarray  # μ_B per hidden neuron, float64
    inv_stds: np.ndarray  # 1/√(σ²_B + ε) per hidden neuron
    run_means: np.ndarray  # running averages of μ_B, for evaluation
    run_vars: np.ndarray  # running averages of σ²_B


class Hyper(NamedTuple):
    """What SGD and the update read besides the net."""

    eta: float  # learning rate η
    lmbda: float  # L2 weight decay λ
    clip: float  # global gradient-norm clip; ≤ 0: none (the update fuses into backprop)
    n_train: int  # n in the decay 1 − ηλ/n
    batch_size: int


def make_buffers(layout: NetLayout, rows: int, batch_size: int, dtype, *, thin: bool,
                 panel_scratch: int = 0) -> Buffers:
    """Buffers for batches of up to `rows` examples (SGD's of batch_size); thin: room for the
    thin products' transposes; panel_scratch: elements for the first layer on the probe set
    (0 without panels)."""
    dtype = np.dtype(dtype)
    width = rows * layout.activation_width
    zs, acts, deltas, grad_acts = (aligned_empty(width, dtype) for _ in range(4))
    grads = aligned_empty(layout.n_params, dtype)
    grads[:] = 0.0
    transposes = max(layout.sizes[1:]) * batch_size if thin else 0
    return Buffers(zs=zs, acts=acts, deltas=deltas, grad_acts=grad_acts, grads=grads,
                   xb=aligned_empty(batch_size * layout.sizes[0], dtype),
                   yb=aligned_empty(batch_size * layout.sizes[-1], dtype),
                   transposes=aligned_empty(transposes, dtype),
                   panel_scratch=aligned_empty(panel_scratch, dtype),
                   speeds=np.empty(layout.n_layers - 1))


def no_compressed(dtype) -> Compressed:
    """An empty Compressed of the kernels' types."""
    return Compressed(starts=np.zeros(1, dtype=np.int64), index=np.empty(0, dtype=np.int64),
                      values=np.empty(0, dtype=dtype))


def no_panels(dtype) -> Panels:
    """Panels for a batch that is not the packed probe set."""
    empty = np.empty(0, dtype=dtype)
    return Panels(inputs=np.empty(0, dtype=np.int64), x_panels=empty, xt_panels=empty,
                  rows=no_compressed(dtype), columns=no_compressed(dtype))


def make_batchnorm(layout: NetLayout, width: int, dtype) -> BatchNorm:
    """BatchNorm arrays for blocks of `width` numbers (Buffers.zs's size): running means 0, variances 1."""
    z_hats, ys, dzs = (aligned_empty(width, np.dtype(dtype)) for _ in range(3))
    hidden = int(layout.table[:-1, N_OUT].sum())
    return BatchNorm(gammas=gamma_offsets(layout), z_hats=z_hats, ys=ys, dzs=dzs, means=np.zeros(hidden),
                     inv_stds=np.zeros(hidden), run_means=np.zeros(hidden), run_vars=np.ones(hidden))
