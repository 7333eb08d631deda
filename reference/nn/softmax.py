"""Softmax output and cross-entropy loss (course eq. 5–8, 11–12)."""

from __future__ import annotations

import numpy as np


def softmax(a: np.ndarray) -> np.ndarray:
    """Row-wise softmax with the max subtracted first (eq. 5–6) so exp never overflows.

    Parameters
    ----------
    a : ndarray, shape (B, C)

    Returns
    -------
    y : ndarray, shape (B, C), rows sum to 1
    """
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(a: np.ndarray) -> np.ndarray:
    """log of :func:`softmax`, computed without taking log of an underflowed 0."""
    shifted = a - a.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(a: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of a minibatch, E_n of eq. 8 (eq. 7 per sample).

    Parameters
    ----------
    a : ndarray, shape (B, C)  — logits (inputs of the softmax)
    labels : ndarray, shape (B,) of int — the index of the 1 in each one-hot y

    Returns
    -------
    E_n : float
    """
    rows = np.arange(a.shape[0])
    return float(-log_softmax(a)[rows, labels].mean())


class SoftmaxCrossEntropy:
    """Softmax followed by cross-entropy, with the fused backward of eq. 12."""

    kind = "softmax_cross_entropy"

    def __init__(self) -> None:
        self._y: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def forward(self, a: np.ndarray, labels: np.ndarray) -> float:
        """E_n for logits ``a`` (B, C) and integer ``labels`` (B,)."""
        self._y, self._labels = softmax(a), labels
        return cross_entropy(a, labels)

    @property
    def probabilities(self) -> np.ndarray:
        """y^(2) of the last forward call, shape (B, C)."""
        return self._y

    def backward(self) -> np.ndarray:
        """∂E_n/∂a_k = (y_k^(2) − y_k) / B (eq. 12), shape (B, C)."""
        batch = self._y.shape[0]
        grad = self._y.copy()
        grad[np.arange(batch), self._labels] -= 1.0
        return grad / batch
