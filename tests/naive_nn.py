"""Independent, deliberately naive implementations (Python loops over every element) of
the course's layers, written straight from the equations, to test the vectorised ones."""

from __future__ import annotations

import math

import numpy as np


def affine(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """y_m = Σ_d W_md x_d + b_m for every sample (eq. 1)."""
    x = x.reshape(len(x), -1)
    y = np.zeros((len(x), len(b)))
    for n in range(len(x)):
        for m in range(len(b)):
            y[n, m] = sum(w[m, d] * x[n, d] for d in range(x.shape[1])) + b[m]
    return y


def elementwise(f, x: np.ndarray) -> np.ndarray:
    y = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        y[i] = f(float(x[i]))
    return y


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(−t)) (eq. 2)."""
    return elementwise(lambda t: 1.0 / (1.0 + math.exp(-t)), x)


def relu(x: np.ndarray) -> np.ndarray:
    """t if t > 0 else 0 (eq. 24)."""
    return elementwise(lambda t: t if t > 0 else 0.0, x)


def cross_entropy(a: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the batch of −log softmax(a)_label (eq. 5–8)."""
    total = 0.0
    for n in range(len(a)):
        z = sum(math.exp(v) for v in a[n])
        total -= math.log(math.exp(a[n, labels[n]]) / z)
    return total / len(a)


def dropout_train(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """t where the node is kept, 0 where it is dropped (eq. 26)."""
    y = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        y[i] = x[i] if keep[i] else 0.0
    return y


def _feature_values(x: np.ndarray, f: int) -> list[float]:
    """All values of feature (or channel) f across the batch (and pixels)."""
    return [float(v) for v in np.moveaxis(x, 1, 0)[f].ravel()]


def batchnorm_train(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
                    ) -> tuple[np.ndarray, list[float], list[float]]:
    """Eq. 28–31 per feature of (B, D) or per channel of (B, C, H, W); also μ_B, σ_B²."""
    y = np.empty(x.shape)
    means, variances = [], []
    for f in range(x.shape[1]):
        values = _feature_values(x, f)
        mu = sum(values) / len(values)
        var = sum((v - mu) ** 2 for v in values) / len(values)
        means.append(mu)
        variances.append(var)
        for i in np.ndindex(x.shape):
            if i[1] == f:
                y[i] = gamma[f] * (x[i] - mu) / math.sqrt(var + eps) + beta[f]
    return y, means, variances


def batchnorm_test(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray,
                   var: np.ndarray, eps: float) -> np.ndarray:
    """Eq. 38 element by element."""
    y = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        f = i[1]
        scale = gamma[f] / math.sqrt(var[f] + eps)
        y[i] = scale * x[i] + (beta[f] - scale * mean[f])
    return y


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int
           ) -> np.ndarray:
    """Eq. 58 with K filters: seven nested loops over samples, filters, output pixels,
    channels and filter offsets; pixels outside the image count as 0 (padding)."""
    batch, channels, height, width = x.shape
    k, _, kh, kw = w.shape
    ho = (height + 2 * padding - kh) // stride + 1
    wo = (width + 2 * padding - kw) // stride + 1
    y = np.zeros((batch, k, ho, wo))
    for n in range(batch):
        for f in range(k):
            for i in range(ho):
                for j in range(wo):
                    total = b[f]
                    for c in range(channels):
                        for s in range(kh):
                            for t in range(kw):
                                r, q = i * stride + s - padding, j * stride + t - padding
                                if 0 <= r < height and 0 <= q < width:
                                    total += x[n, c, r, q] * w[f, c, s, t]
                    y[n, f, i, j] = total
    return y


def maxpool2d(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Eq. 63: the maximum of each size×size window, windows ``stride`` apart."""
    batch, channels, height, width = x.shape
    ho, wo = (height - size) // stride + 1, (width - size) // stride + 1
    y = np.empty((batch, channels, ho, wo))
    for n in range(batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    y[n, c, i, j] = max(x[n, c, i * stride + s, j * stride + t]
                                        for s in range(size) for t in range(size))
    return y
