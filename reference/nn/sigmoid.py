"""Sigmoid activation (course eq. 2 and its derivative eq. 19)."""

from __future__ import annotations

import numpy as np

from reference.nn.layer import Layer


def sigmoid(t: np.ndarray) -> np.ndarray:
    """a(t) = 1 / (1 + exp(-t)) (eq. 2), elementwise, without overflow warnings.

    Written as (1 + tanh(t/2)) / 2, which is the same function and never evaluates
    exp of a large positive number.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * t))


class Sigmoid(Layer):
    """Elementwise sigmoid; backward uses a'(t) = (1 - a(t)) a(t) (eq. 19)."""

    kind = "sigmoid"

    def __init__(self) -> None:
        super().__init__()
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._y = sigmoid(x)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self._y) * self._y
