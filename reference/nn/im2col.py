"""im2col and col2im: convolution as one matrix product (course §5.6.5, eq. 59–62)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Output positions along one axis: ⌊(size + 2·padding − kernel) / stride⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def window_view(
    x: np.ndarray, kh: int, kw: int, stride: int, writeable: bool = False
) -> np.ndarray:
    """Every kh×kw window of the last two axes, ``stride`` apart, as a view (no copy).

    Windows may overlap, so write through a ``writeable`` view one offset ``[..., s, t]``
    at a time: the pixels of a single offset are distinct.

    Parameters
    ----------
    x : ndarray, shape (..., H, W)

    Returns
    -------
    windows : ndarray, shape (..., Ho, Wo, kh, kw)
        ``windows[..., i, j, s, t] = x[..., i·stride + s, j·stride + t]``.
    """
    windows = sliding_window_view(x, (kh, kw), axis=(-2, -1), writeable=writeable)
    return windows[..., ::stride, ::stride, :, :]


def pad_images(x: np.ndarray, padding: int) -> np.ndarray:
    """Surround every (H, W) image of x (B, C, H, W) with ``padding`` zero pixels (§5.6.2)."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """The matrix X of eq. 59: one column per output pixel of every image in the batch.

    Row ``(c, s, t)`` of column ``(b, i, j)`` holds the padded input pixel
    ``x[b, c, i·stride + s, j·stride + t]``, so ``W X`` with W of shape (K, C·kh·kw)
    computes every output pixel of every filter at once (Fig. 4–5 of the course).

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W)

    Returns
    -------
    col : ndarray, shape (C·kh·kw, B·Ho·Wo), C-contiguous
    """
    windows = window_view(pad_images(x, padding), kh, kw, stride)  # (B, C, Ho, Wo, kh, kw)
    c = x.shape[1]
    # The single copy of im2col: to (C, kh, kw, B, Ho, Wo), whose inner axis runs along rows.
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, -1)


def col2im(cols: np.ndarray, size: tuple[int, int], stride: int) -> np.ndarray:
    """Sum window gradients back onto the image they were cut from (adjoint of a window view).

    Loops over the kh·kw kernel offsets only: each offset adds one strided slice of the
    output, so overlapping windows accumulate without per-pixel work or ``np.add.at``.

    Parameters
    ----------
    cols : ndarray, shape (kh, kw, ..., Ho, Wo)
        ``cols[s, t, ..., i, j]`` is the gradient of window (i, j) at offset (s, t).
    size : (H, W) of the image the windows were taken from

    Returns
    -------
    image : ndarray, shape (..., H, W)
        Pixels that no window covers get 0.
    """
    kh, kw, *lead, ho, wo = cols.shape
    image = np.zeros((*lead, *size), dtype=cols.dtype)
    for s in range(kh):
        for t in range(kw):
            image[..., s : s + stride * ho : stride, t : t + stride * wo : stride] += cols[s, t]
    return image
