"""Fully connected layer (course eq. 1, 4, 13–18)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.init import init_weights
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


def affine_input_grad(dy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """∂E/∂X = W^T ∂E/∂Y (eq. 16), with samples as rows: shape (B, M) → (B, D)."""
    return dy @ w


def affine_param_grads(dy: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂E/∂W = ∂E/∂Y X^T (eq. 17), shape (M, D), and ∂E/∂b = row sums of ∂E/∂Y (eq. 18), (M,)."""
    return dy.T @ x, dy.sum(axis=0)


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
    return affine_input_grad(dy, w), *affine_param_grads(dy, x)


class Affine(Layer):
    """Fully connected layer; accepts (B, ...) inputs and flattens them to (B, D).

    ``init`` names the scheme of :func:`reference.nn.init.init_weights`: the course's
    N(0, gain/N) for W and b by default, or ``"he"`` / ``"xavier"``.
    """

    kind = "affine"
    weight_names = ("W",)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: np.random.Generator | None = None,
        gain: float = 1.0,
        init: str = "course",
    ) -> None:
        super().__init__()
        self.in_features, self.out_features, self.gain, self.init = (
            in_features, out_features, gain, init)
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params["W"], self.params["b"] = init_weights(
            rng, init, (out_features, in_features), in_features, out_features, gain)
        self._x: np.ndarray | None = None
        self._in_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._in_shape = x.shape
        self._x = x.reshape(x.shape[0], -1)
        return affine_forward(self._x, self.params["W"], self.params["b"])

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dw, db = affine_param_grads(dout, self._x)
        self.grads = {"W": dw, "b": db}
        # The first layer's input is data: its gradient would cost a third of the layer's
        # work for nothing.
        if not self.input_grad:
            return None
        return affine_input_grad(dout, self.params["W"]).reshape(self._in_shape)

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "gain": self.gain, "init": self.init}

    @classmethod
    def infer_config(cls, config: dict[str, Any], in_shape: tuple[int, ...]) -> dict[str, Any]:
        return {"in_features": int(np.prod(in_shape)), **config}
