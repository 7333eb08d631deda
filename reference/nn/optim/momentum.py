"""SGD with a momentum term (course eq. 40–41)."""

from __future__ import annotations

import numpy as np

from reference.nn.optim.base import Optimizer


class Momentum(Optimizer):
    """ΔW ← α ΔW − η ∂E_n/∂W (eq. 40); W ← W + ΔW (eq. 41); ΔW starts at 0.

    Defaults are the course's suggestion η = 0.01, α = 0.9.
    """

    kind = "momentum"

    def __init__(self, lr: float = 0.01, alpha: float = 0.9) -> None:
        super().__init__()
        self.lr, self.alpha = lr, alpha

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            delta = self.slot("delta", name, p)
            delta *= self.alpha
            delta -= self.lr * grads[name]
            p += delta
