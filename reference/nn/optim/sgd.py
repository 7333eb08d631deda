"""Stochastic gradient descent (course eq. 20–23, 39)."""

from __future__ import annotations

import numpy as np

from reference.nn.optim.base import Optimizer


class SGD(Optimizer):
    """W ← W − η ∂E_n/∂W for every parameter (eq. 39; eq. 20–23 per layer)."""

    kind = "sgd"

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = lr

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            p -= self.lr * grads[name]
