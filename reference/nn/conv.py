"""Convolution layer via im2col (course §5.6, eq. 56–62)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reference.nn.im2col import col2im, conv_output_size, im2col
from reference.nn.init import init_weights
from reference.nn.layer import Layer


def _output_size(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: int,
                 padding: int) -> tuple[int, int]:
    """(Ho, Wo) of a convolution of a (B, C, H, W) input with (K, C, kh, kw) filters."""
    return (conv_output_size(x_shape[2], w_shape[2], stride, padding),
            conv_output_size(x_shape[3], w_shape[3], stride, padding))


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-channel, multi-filter convolution with bias, Y = W X + B (eq. 58–59).

    As in eq. 56 the filter is not flipped (cross-correlation, as in every framework).

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)
    w : ndarray, shape (K, C, kh, kw)  — K filters
    b : ndarray, shape (K,)

    Returns
    -------
    y : ndarray, shape (B, K, Ho, Wo)
        A transposed view of the (K, B·Ho·Wo) product: the following layers work
        elementwise or per channel, so it is never copied back to (B, K, Ho, Wo) order.
    col : ndarray, shape (C·kh·kw, B·Ho·Wo)  — X of eq. 59, kept for the backward pass
    """
    k, _, kh, kw = w.shape
    col = im2col(x, kh, kw, stride, padding)
    y = w.reshape(k, -1) @ col
    y += b[:, None]
    ho, wo = _output_size(x.shape, w.shape, stride, padding)
    return y.reshape(k, len(x), ho, wo).transpose(1, 0, 2, 3), col


def conv2d_param_grads(
    dy: np.ndarray, col: np.ndarray, w_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """∂E/∂W = ∂E/∂Y X^T (eq. 61) and ∂E/∂b = rowSum(∂E/∂Y) (eq. 62).

    Parameters
    ----------
    dy : ndarray, shape (B, K, Ho, Wo)
    col : ndarray, shape (C·kh·kw, B·Ho·Wo)

    Returns
    -------
    dw : ndarray, shape ``w_shape`` (K, C, kh, kw)
    db : ndarray, shape (K,)
    dy_mat : ndarray, shape (K, B·Ho·Wo)  — ∂E/∂Y as a matrix, for :func:`conv2d_input_grad`
    """
    dy_mat = dy.transpose(1, 0, 2, 3).reshape(w_shape[0], -1)
    return (dy_mat @ col.T).reshape(w_shape), dy_mat.sum(axis=1), dy_mat


def conv2d_input_grad(
    dy_mat: np.ndarray,
    w: np.ndarray,
    x_shape: tuple[int, ...],
    stride: int,
    padding: int,
) -> np.ndarray:
    """∂E/∂X = W^T ∂E/∂Y (eq. 60), folded back from columns to images by col2im.

    Parameters
    ----------
    dy_mat : ndarray, shape (K, B·Ho·Wo)
    w : ndarray, shape (K, C, kh, kw)
    x_shape : (B, C, H, W) of the input

    Returns
    -------
    dx : ndarray, shape (B, C, H, W)  — a view of a (C, B, H+2p, W+2p) array
    """
    batch, c, height, width = x_shape
    k, _, kh, kw = w.shape
    ho, wo = _output_size(x_shape, w.shape, stride, padding)
    dcol = (w.reshape(k, -1).T @ dy_mat).reshape(c, kh, kw, batch, ho, wo)
    padded = (height + 2 * padding, width + 2 * padding)
    dx_padded = col2im(dcol.transpose(1, 2, 0, 3, 4, 5), padded, stride)  # (C, B, Hp, Wp)
    dx = dx_padded[:, :, padding : padding + height, padding : padding + width]
    return dx.transpose(1, 0, 2, 3)


class Conv2d(Layer):
    """K filters of size kh×kw over C input channels, with stride and zero padding (§5.6).

    W has shape (K, C, kh, kw) — row k of the course's matrix W (Fig. 4) is ``W[k].ravel()``
    — and b has shape (K,). ``init`` is a scheme of :func:`reference.nn.init.init_weights`
    with fan-in C·kh·kw.
    """

    kind = "conv2d"
    weight_names = ("W",)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int = 1,
        padding: int = 0,
        rng: np.random.Generator | None = None,
        gain: float = 1.0,
        init: str = "course",
    ) -> None:
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (kh, kw)
        self.stride, self.padding, self.gain, self.init = stride, padding, gain, init
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params["W"], self.params["b"] = init_weights(
            rng, init, (out_channels, in_channels, kh, kw), in_channels * kh * kw,
            out_channels * kh * kw, gain)
        self._col: np.ndarray | None = None
        self._x_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._x_shape = x.shape
        y, self._col = conv2d_forward(x, self.params["W"], self.params["b"], self.stride,
                                      self.padding)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        w = self.params["W"]
        dw, db, dy_mat = conv2d_param_grads(dout, self._col, w.shape)
        self.grads = {"W": dw, "b": db}
        if not self.input_grad:
            return None
        return conv2d_input_grad(dy_mat, w, self._x_shape, self.stride, self.padding)

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": self.stride,
                "padding": self.padding, "gain": self.gain, "init": self.init}

    @classmethod
    def infer_config(cls, config: dict[str, Any], in_shape: tuple[int, ...]) -> dict[str, Any]:
        return {"in_channels": in_shape[0], **config}
