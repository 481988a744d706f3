"""Saturated and dead units of each hidden layer, counted from the z's a probe pass left behind.

The book's explanation of the vanishing gradient made visible: a sigmoid unit with σ'(z) < 0.01
(|z| > 4.585) or a tanh unit with |tanh z| > 0.97 (|z| > 2.092) passes almost nothing back; a
ReLU-family unit whose f(z) is zero for every probe example is dead (ReLU: z ≤ 0 throughout;
leaky ReLU and ELU only at z = 0). Saturation is the fraction of (unit, example) pairs, as a
forward hook on a watched model counts it; dead is the fraction of units. One pass over the
blocks the probe pass wrote, no activation recomputed.
"""

from __future__ import annotations

import math

from vgrad.core.engine.activations import RELU, SIGMOID, TANH
from vgrad.core.engine.jit import kernel
from vgrad.core.engine.net import N_OUT
from vgrad.core.saturation import SIGMOID_SLOPE, TANH_LEVEL

# σ'(z) = σ(1 − σ) = 0.01 at σ = (1 ± √0.96)/2, i.e. |z| = ln((1 + √0.96)/(1 − √0.96))
SIGMOID_Z = math.log((1 + math.sqrt(1 - 4 * SIGMOID_SLOPE)) / (1 - math.sqrt(1 - 4 * SIGMOID_SLOPE)))
TANH_Z = math.atanh(TANH_LEVEL)


def measures(code: int) -> tuple[bool, bool]:
    """(saturation, dead units) for an activation code: sigmoid and tanh saturate, the ReLU family dies."""
    saturating = code in (SIGMOID, TANH)
    return saturating, not saturating


@kernel
def count_units(blocks, table, batch, code, units_first, out):
    """out[l] ← the saturated fraction (sigmoid, tanh) or the dead fraction (ReLU family) of hidden
    layer l, from its block of z's in `blocks` (B·n_l numbers per layer, one after another):
    (n_l, B) by rows when units_first, else (B, n_l)."""
    offset = 0
    for layer in range(table.shape[0] - 1):
        n_out = table[layer, N_OUT]
        block = blocks[offset : offset + n_out * batch]
        if code == SIGMOID or code == TANH:
            bound = SIGMOID_Z if code == SIGMOID else TANH_Z
            count = 0
            for i in range(n_out * batch):
                count += abs(block[i]) > bound
            out[layer] = count / (n_out * batch)
        else:
            dead = 0
            for j in range(n_out):
                alive = False
                for i in range(batch):
                    z = block[j * batch + i] if units_first else block[i * n_out + j]
                    if z > 0.0 or (z < 0.0 and code != RELU):
                        alive = True
                        break
                dead += not alive
            out[layer] = dead / n_out
        offset += n_out * batch
