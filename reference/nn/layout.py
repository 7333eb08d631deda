"""Memory order of activations and their gradients.

A conv layer's output is a (B, K, H, W) view of the (K, B·H·W) matrix product of eq. 59,
so its memory runs channel-major. Copying it back to (B, K, H, W) order would cost a pass
over the largest tensor of the network, so the layers after it (ReLU, BatchNorm, pooling)
keep whatever order they receive, and bring a gradient to the order of the activation it
belongs to before working on both: numpy's loops are fastest when operands share an order.
"""

from __future__ import annotations

import numpy as np


def like(a: np.ndarray, template: np.ndarray) -> np.ndarray:
    """``a`` in the memory order of ``template`` (same shape): ``a`` itself when it already
    is, else one copy."""
    out = np.empty_like(template, dtype=a.dtype)  # untouched unless a must be copied
    if out.strides == a.strides:
        return a
    out[...] = a
    return out
