"""Fully connected layer (course eq. 1, 4, 13–18)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.init import normal_fan_in
from reference.nn.layer import Layer


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """y = x W^T + b for a minibatch (eq. 1, 4 in row-vector form).

    Parameters
    ----------
    x : ndarray, shape (B, D)
    w : ndarray, shape (M, D)   — one row per output node, as W^(1) in the course
    b : ndarray, shape (M,)

    Returns
    -------
    y : ndarray, shape (B, M)
    """
    return x @ w.T + b


def affine_backward(
    dy: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of an affine layer (eq. 16–18, with samples as rows instead of columns).

    Parameters
    ----------
    dy : ndarray, shape (B, M)  — ∂E/∂Y
    x : ndarray, shape (B, D)
    w : ndarray, shape (M, D)

    Returns
    -------
    dx : ndarray, shape (B, D)  — W^T ∂E/∂Y (eq. 16)
    dw : ndarray, shape (M, D)  — ∂E/∂Y X^T (eq. 17)
    db : ndarray, shape (M,)    — row sums of ∂E/∂Y (eq. 18)
    """
    return dy @ w, dy.T @ x, dy.sum(axis=0)


class Affine(Layer):
    """Fully connected layer; accepts (B, ...) inputs and flattens them to (B, D)."""

    kind = "affine"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: np.random.Generator | None = None,
        gain: float = 1.0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features, self.gain = in_features, out_features, gain
        rng = rng if rng is not None else np.random.default_rng(0)
        # The course draws both W and b from N(0, 1/N) (§4.2.2).
        self.params["W"] = normal_fan_in(rng, (out_features, in_features), in_features, gain)
        self.params["b"] = normal_fan_in(rng, (out_features,), in_features, gain)
        self._x: np.ndarray | None = None
        self._in_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._in_shape = x.shape
        self._x = x.reshape(x.shape[0], -1)
        return affine_forward(self._x, self.params["W"], self.params["b"])

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = affine_backward(dout, self._x, self.params["W"])
        self.grads = {"W": dw, "b": db}
        return dx.reshape(self._in_shape)

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "gain": self.gain}
