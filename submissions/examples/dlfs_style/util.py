"""im2col / col2im in the style of "Deep Learning from Scratch" (loops over the kernel only)."""

import numpy as np


def im2col(x, fh, fw, stride=1, pad=0):
    n, c, h, w = x.shape
    out_h = (h + 2 * pad - fh) // stride + 1
    out_w = (w + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((n, c, fh, fw, out_h, out_w))
    for y in range(fh):
        y_max = y + stride * out_h
        for xx in range(fw):
            x_max = xx + stride * out_w
            col[:, :, y, xx, :, :] = img[:, :, y:y_max:stride, xx:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * out_h * out_w, -1)


def col2im(col, input_shape, fh, fw, stride=1, pad=0):
    n, c, h, w = input_shape
    out_h = (h + 2 * pad - fh) // stride + 1
    out_w = (w + 2 * pad - fw) // stride + 1
    col = col.reshape(n, out_h, out_w, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1))
    for y in range(fh):
        y_max = y + stride * out_h
        for xx in range(fw):
            x_max = xx + stride * out_w
            img[:, :, y:y_max:stride, xx:x_max:stride] += col[:, :, y, xx, :, :]
    return img[:, :, pad : h + pad, pad : w + pad]
