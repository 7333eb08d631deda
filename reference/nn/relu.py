"""ReLU activation (course eq. 24–25)."""

from __future__ import annotations

import numpy as np

from reference.nn.layer import Layer
from reference.nn.layout import like


def relu(t: np.ndarray) -> np.ndarray:
    """a(t) = t for t > 0, else 0 (eq. 24), elementwise; the result keeps t's memory layout."""
    return np.maximum(t, 0)


def relu_backward(dy: np.ndarray, active: np.ndarray) -> np.ndarray:
    """∂E/∂t = ∂E/∂a · a'(t) with a'(t) = 1 where t > 0, else 0 (eq. 25).

    Parameters
    ----------
    dy : ndarray, any shape  — ∂E/∂a
    active : ndarray of bool, same shape  — t > 0

    Returns
    -------
    dt : ndarray, same shape as dy, in the memory order of ``active``
    """
    return like(dy, active) * active


class ReLU(Layer):
    """Elementwise ReLU (eq. 24); backward passes the gradient where the input was > 0."""

    kind = "relu"

    def __init__(self) -> None:
        super().__init__()
        self._active: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._active = x > 0
        return relu(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return relu_backward(dout, self._active)
