"""Flatten: images to vectors, so a conv or pooling output can feed an affine layer (§5.6.4)."""

from __future__ import annotations

import numpy as np

from reference.nn.layer import Layer


class Flatten(Layer):
    """(B, C, H, W) → (B, C·H·W) in C-order (channel, then row, then column); backward undoes it."""

    kind = "flatten"

    def __init__(self) -> None:
        super().__init__()
        self._in_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._in_shape)
