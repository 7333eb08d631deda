"""Dropout as the course defines it (eq. 26–27): drop nodes in training, scale at test time."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.layer import Layer


def dropout_mask(rng: np.random.Generator, shape: tuple[int, ...], rate: float) -> np.ndarray:
    """Which nodes survive: for every sample, exactly round(ρ·D) of its D nodes are dropped.

    The course drops "the number of nodes of the layer × ρ" nodes, chosen anew for each
    training sample (§5.2), so the count is exact rather than Bernoulli(ρ) per node.

    Parameters
    ----------
    shape : tuple, (B, ...)  — D is the product of the non-batch sizes
    rate : float in [0, 1)  — ρ

    Returns
    -------
    keep : ndarray of bool, shape ``shape``
    """
    batch, nodes = shape[0], int(np.prod(shape[1:]))
    n_drop = round(rate * nodes)
    keys = rng.random((batch, nodes))
    # Keys below the n_drop-th smallest key of their row are the dropped nodes.
    threshold = np.partition(keys, n_drop, axis=1)[:, n_drop : n_drop + 1]
    return (keys >= threshold).reshape(shape)


class Dropout(Layer):
    """Training: y = x where the node is kept, 0 where dropped (eq. 26); ∂y/∂x is the same
    0/1 mask (eq. 27). Test: y = (1 − ρ)·x, the expected training output (§5.2).

    This is not "inverted" dropout: the scaling happens at test time, as the course says.
    Set ``fixed_mask = True`` to reuse the last mask in later training passes, so that a
    gradient check sees one deterministic function.
    """

    kind = "dropout"

    def __init__(self, rate: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate ρ must be in [0, 1), got {rate}")
        self.rate = rate
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.fixed_mask = False
        self.mask: np.ndarray | None = None
        self._factor: np.ndarray | float = 1.0

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        if not train:
            self._factor = 1.0 - self.rate
        else:
            if not (self.fixed_mask and self.mask is not None and self.mask.shape == x.shape):
                self.mask = dropout_mask(self.rng, x.shape, self.rate)
            self._factor = self.mask
        return x * self._factor

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._factor

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}
