"""Max pooling (course §5.7, eq. 63–64)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.im2col import conv_output_size, window_view
from reference.nn.layer import Layer
from reference.nn.layout import like


def pool_windows(x: np.ndarray, size: int, stride: int, writeable: bool = False) -> np.ndarray:
    """The pooling windows of x as a view, shape (d, d, B, C, Ho, Wo) with d = ``size``.

    ``windows[s, t, b, c, i, j] = x[b, c, i·stride + s, j·stride + t]``. When the windows
    tile the input (stride = size) this is a reshape of the input cropped to whole
    windows (the fast path); otherwise a strided window view, which is read-only unless
    ``writeable``. Either way nothing is copied, and ``windows[s, t]`` never holds a
    pixel twice, so it can be written through.

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)
    """
    batch, c, height, width = x.shape
    ho, wo = conv_output_size(height, size, stride), conv_output_size(width, size, stride)
    if stride == size:
        tiles = x[:, :, : ho * size, : wo * size].reshape(batch, c, ho, size, wo, size)
        return tiles.transpose(3, 5, 0, 1, 2, 4)
    return window_view(x, size, size, stride, writeable).transpose(4, 5, 0, 1, 2, 3)


def maxpool_forward(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Y[c, i, j] = max over 0 ≤ k, l < d of X[c, i·s + k, j·s + l] (eq. 63), s = stride.

    The maximum over a d×d window is the maximum over its d columns of the maximum over its
    d rows, so it is taken in two sweeps of d elementwise maxima over whole strided slices
    (rows first, whose inner loops stay contiguous): numpy runs those far faster than it
    reduces many tiny windows. The result keeps x's memory order.

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)

    Returns
    -------
    y : ndarray, shape (B, C, Ho, Wo)
    """
    ho, wo = conv_output_size(x.shape[2], size, stride), conv_output_size(x.shape[3], size, stride)
    rows = _running_max([x[:, :, s : s + stride * ho : stride] for s in range(size)])
    return _running_max([rows[..., t : t + stride * wo : stride] for t in range(size)])


def _running_max(parts: list[np.ndarray]) -> np.ndarray:
    result = np.copy(parts[0], order="K")
    for part in parts[1:]:
        np.maximum(result, part, out=result)
    return result


def maxpool_backward(
    x: np.ndarray, y: np.ndarray, dy: np.ndarray, size: int, stride: int
) -> np.ndarray:
    """∂E/∂X: ∂E/∂Y at the input pixels that equal their window's maximum, else 0 (eq. 64).

    Every position that attains the maximum receives the gradient, as eq. 64 states; on
    real-valued inputs the maximum is unique, and after a ReLU tied zeros get no
    gradient anyway. Each window offset is one strided slice of x and of dx: tiling
    windows are disjoint, so their gradients are written straight into dx (no zeroing
    where they cover it); overlapping windows add theirs up.

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)  — the input; dx gets its memory order
    y, dy : ndarray, shape (B, C, Ho, Wo)  — Y and ∂E/∂Y

    Returns
    -------
    dx : ndarray, shape of x  — 0 at pixels no window covers
    """
    dy = like(dy, y)
    windows = pool_windows(x, size, stride)
    tiling = stride == size
    covered = tiling and (windows.shape[4] * size, windows.shape[5] * size) == x.shape[2:]
    dx = np.empty_like(x, dtype=dy.dtype) if covered else np.zeros_like(x, dtype=dy.dtype)
    dx_windows = pool_windows(dx, size, stride, writeable=True)
    for s, t in np.ndindex(size, size):
        if tiling:
            _route(windows[s, t], y, dy, out=dx_windows[s, t])
        else:
            dx_windows[s, t] += _route(windows[s, t], y, dy)
    return dx


def _route(x_at: np.ndarray, y: np.ndarray, dy: np.ndarray,
           out: np.ndarray | None = None) -> np.ndarray:
    """Eq. 64 at one window offset: ∂E/∂Y where X = Y, else 0 (all (B, C, Ho, Wo))."""
    return np.multiply(x_at == y, dy, out=out)


class MaxPool2d(Layer):
    """Max pooling over size×size windows, ``stride`` apart (default: stride = size, §5.7).

    Has no parameters. Input sizes not divisible by the stride are floored as in eq. 63.
    """

    kind = "maxpool2d"

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.stride = stride if stride is not None else size
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._x = x
        self._y = maxpool_forward(x, self.size, self.stride)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return maxpool_backward(self._x, self._y, dout, self.size, self.stride)

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "stride": self.stride}
