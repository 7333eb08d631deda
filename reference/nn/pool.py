"""Max pooling (course §5.7, eq. 63–64)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.im2col import col2im, conv_output_size, window_view
from reference.nn.layer import Layer


def pool_windows(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """The pooling windows of x as a view, shape (B, C, Ho, kh=size, Wo, kw=size).

    When the windows tile the input (stride = size) a reshape of the input cropped to
    whole windows gives them; otherwise they come from a strided window view. Either
    way nothing is copied.

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)
    """
    ho, wo = (conv_output_size(n, size, stride) for n in x.shape[2:])
    if stride == size:
        cropped = x[:, :, : ho * size, : wo * size]
        return cropped.reshape(*x.shape[:2], ho, size, wo, size)
    return window_view(x, size, size, stride).transpose(0, 1, 2, 4, 3, 5)


def maxpool_forward(windows: np.ndarray) -> np.ndarray:
    """Y[c, i, j] = max over the window X[c, i·d + k, j·d + l] (eq. 63).

    Parameters
    ----------
    windows : ndarray, shape (B, C, Ho, d, Wo, d)  — from :func:`pool_windows`

    Returns
    -------
    y : ndarray, shape (B, C, Ho, Wo)
    """
    return windows.max(axis=(3, 5))


def maxpool_window_grads(windows: np.ndarray, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """∂E/∂X within each window: ∂E/∂Y where X equals the window's maximum, else 0 (eq. 64).

    Every position that attains the maximum receives the gradient, as eq. 64 states; on
    real-valued inputs the maximum is unique, and after a ReLU tied zeros get no
    gradient anyway.

    Parameters
    ----------
    windows : ndarray, shape (B, C, Ho, d, Wo, d)
    y, dy : ndarray, shape (B, C, Ho, Wo)

    Returns
    -------
    dwindows : ndarray, shape (B, C, Ho, d, Wo, d)
    """
    at_max = windows == y[:, :, :, None, :, None]
    return np.multiply(at_max, dy[:, :, :, None, :, None], dtype=dy.dtype)


def maxpool_backward(
    dwindows: np.ndarray, x_shape: tuple[int, ...], size: int, stride: int
) -> np.ndarray:
    """Place window gradients back at their input pixels.

    Tiling windows (stride = size) are disjoint, so a reshape puts them back; overlapping
    or strided windows are summed by :func:`reference.nn.im2col.col2im`.

    Parameters
    ----------
    dwindows : ndarray, shape (B, C, Ho, d, Wo, d)
    x_shape : (B, C, H, W) of the input

    Returns
    -------
    dx : ndarray, shape ``x_shape``  — 0 at pixels no window covers
    """
    batch, c, ho, _, wo, _ = dwindows.shape
    if stride == size:
        tiled = dwindows.reshape(batch, c, ho * size, wo * size)
        if tiled.shape == tuple(x_shape):
            return tiled
        dx = np.zeros(x_shape, dtype=dwindows.dtype)
        dx[:, :, : ho * size, : wo * size] = tiled
        return dx
    return col2im(dwindows.transpose(3, 5, 0, 1, 2, 4), x_shape[2:], stride)


class MaxPool2d(Layer):
    """Max pooling over size×size windows, ``stride`` apart (default: stride = size, §5.7).

    Has no parameters. Input sizes not divisible by the stride are floored as in eq. 63.
    """

    kind = "maxpool2d"

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.stride = stride if stride is not None else size
        self._windows: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._x_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._x_shape = x.shape
        self._windows = pool_windows(x, self.size, self.stride)
        self._y = maxpool_forward(self._windows)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dwindows = maxpool_window_grads(self._windows, self._y, dout)
        return maxpool_backward(dwindows, self._x_shape, self.size, self.stride)

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "stride": self.stride}
