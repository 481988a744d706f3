"""Norms of many tensors with torch's own ops, on their device, and one host transfer per device.

‖t‖₂ by torch._foreach_norm per (dtype, device) group: float16/bfloat16 accumulate in float32.
float32 squares underflow below about 1e-19 and overflow above 1e19 (a vanishing or exploding
gradient): a float32 or bfloat16 norm too small to be exact, zero or infinite is computed again
in float64 from the tensor, on the host side of the transfer (rare, so the common record pays
only the float32 pass). float64 squares do the same below 1e-154 and above 1e154: such a norm is
computed again as m·‖t/m‖ with m = max|t|. No raw memory is read: every tensor is read by torch.
"""

from __future__ import annotations

import math

TINY32 = 1.2e-38   # float32's smallest normal number: squares below it lose digits or vanish
TINY64 = 2.3e-308  # float64's
EXACT = 1e-6       # a float32 norm is kept when the squares it may have lost are below this share of it


def strided(torch, grad, *, dense: bool = False):
    """A gradient as a strided tensor with the same norm: a sparse one (nn.Embedding(sparse=True))
    by its coalesced values, or whole when `dense` (a bias, whose first entries are shown); a
    sharded one (FSDP's DTensor) by this rank's shard."""
    if grad is None:
        return None
    local = getattr(grad, "to_local", None)
    if local is not None:
        grad = local()
    if grad.layout == torch.strided:
        return grad
    if dense:
        return grad.to_dense()
    return grad.coalesce().values() if grad.is_sparse else grad.values()


class Norms:
    """‖t‖₂ of each tensor, started on the tensors' devices (`parts`) and read after the transfer
    (`values`): a caller can queue more device work (update ratios, activation counts) first.
    `float64`: accumulate every dtype in float64 (norms of shards, summed over ranks later)."""

    def __init__(self, torch, tensors: list, *, float64: bool = False) -> None:
        self._torch = torch
        self.tensors = tensors
        self._float64 = float64
        groups: dict[tuple, list[int]] = {}
        for index, tensor in enumerate(tensors):
            groups.setdefault((tensor.dtype, tensor.device), []).append(index)
        self._order = [index for indices in groups.values() for index in indices]
        self._identity = self._order == sorted(self._order)
        self._floor = exact_floor(torch, tensors, float64)
        parts = []
        for (dtype, _), indices in groups.items():
            group = [tensors[i] for i in indices]
            if float64 and dtype != torch.float64:
                norms = torch._foreach_norm(group, 2, dtype=torch.float64)
            elif dtype in (torch.float16, torch.bfloat16):
                norms = torch._foreach_norm(group, 2, dtype=torch.float32)
            else:
                norms = torch._foreach_norm(group)
            parts.append(torch.stack(norms))
        self.parts = parts          # one 1-d tensor per (dtype, device), in self._order

    @classmethod
    def together(cls, torch, tensors: list, floor: float, part) -> Norms:
        """The norms of tensors known to share one dtype (not half) and one device, computed by the
        caller into the 1-d tensor `part` (which may hold more values after them); `floor`: their
        `exact_floor`."""
        norms = cls.__new__(cls)
        norms._torch, norms.tensors, norms._float64 = torch, tensors, False
        norms._order = list(range(len(tensors)))
        norms._identity = True
        norms._floor = floor
        norms.parts = [part]
        return norms

    def values(self, host: list[float]) -> list[float]:
        """The norms in the tensors' order, from the host values of `parts`; float32 norms that
        may have lost squares are computed again in float64."""
        torch = self._torch
        narrow = () if self._float64 else (torch.float32, torch.bfloat16)
        wide = () if self._float64 else (torch.float64,)   # sharded: a shard's norm is not the tensor's
        if plainly_exact(host, self._floor):
            if self._identity:
                return list(host)
            out = [0.0] * len(self.tensors)
            for index, value in zip(self._order, host):
                out[index] = value
            return out
        out = [0.0] * len(self.tensors)
        for index, value in zip(self._order, host):
            tensor = self.tensors[index]
            if tensor.dtype in narrow and not _exact(value, tensor.numel()) and not _all_zero(torch, value, tensor):
                value = torch.linalg.vector_norm(tensor, dtype=torch.float64).item()
            elif tensor.dtype in wide and not _exact(value, tensor.numel(), TINY64):
                value = _scaled_norm(torch, tensor)
            out[index] = value
        return out


def exact_floor(torch, tensors: list, float64: bool) -> float:
    """The least norm `_exact` keeps for every tensor of `tensors` (float32 and bfloat16 accumulate
    in float32, the others in float64)."""
    narrow = () if float64 else (torch.float32, torch.bfloat16)
    largest = max((t.numel() for t in tensors if t.dtype in narrow), default=0)
    widest = max((t.numel() for t in tensors if t.dtype not in narrow), default=0)
    return math.sqrt(max(largest * TINY32, widest * TINY64) / EXACT)


def plainly_exact(host: list[float], floor: float) -> bool:
    """The common record: every norm finite and above `floor` (exact_floor's), so none is read again."""
    return bool(host) and math.isfinite(sum(host)) and min(host) > floor


def _all_zero(torch, norm: float, tensor) -> bool:
    """Whether a norm of 0 is exact because every entry is 0 (an update that vanished below
    float32's resolution): one min/max pass, a quarter of a float64 norm's."""
    if norm != 0.0 or tensor.numel() == 0:
        return norm == 0.0
    low, high = torch.aminmax(tensor)
    return low.item() == 0.0 == high.item()


def _exact(norm: float, count: int, tiny: float = TINY32) -> bool:
    """Whether a norm of `count` squares is exact: finite, and so large that the squares lost to
    underflow (each below `tiny`, the accumulating dtype's smallest normal) are a negligible share."""
    return math.isfinite(norm) and norm * norm * EXACT > count * tiny


def _scaled_norm(torch, tensor) -> float:
    """‖t‖₂ of a float64 tensor whose squares under- or overflow: m·‖t/m‖ with m = max|t|."""
    peak = tensor.detach().abs().max()
    if peak.item() == 0.0 or not math.isfinite(peak.item()):
        return peak.item()
    return (torch.linalg.vector_norm(tensor.detach() / peak) * peak).item()


def to_host(torch, parts: list) -> list[float]:
    """The values of `parts` (tensors on any devices) as floats, in order: one transfer per device."""
    if len(parts) == 1:
        return parts[0].reshape(-1).tolist()
    devices: dict = {}
    for index, part in enumerate(parts):
        devices.setdefault(part.device, []).append(index)
    if len(devices) == 1:
        return torch.cat([part.reshape(-1) for part in parts]).tolist() if parts else []
    values: list[list[float]] = [[] for _ in parts]
    for indices in devices.values():
        host = iter(torch.cat([parts[i].reshape(-1) for i in indices]).tolist())
        for i in indices:
            values[i] = [next(host) for _ in range(parts[i].numel())]
    return [value for part in values for value in part]
