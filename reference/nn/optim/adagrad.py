"""AdaGrad (course eq. 42–43)."""

from __future__ import annotations

import numpy as np

from reference.nn.optim.base import Optimizer


class AdaGrad(Optimizer):
    """h ← h + ∂E_n/∂W ∘ ∂E_n/∂W (eq. 42); W ← W − η / √h · ∂E_n/∂W (eq. 43).

    h starts at h₀ > 0, which keeps the first division finite. Defaults are the course's
    suggestion η = 0.001, h₀ = 1e-8.
    """

    kind = "adagrad"

    def __init__(self, lr: float = 0.001, h0: float = 1e-8) -> None:
        super().__init__()
        self.lr, self.h0 = lr, h0

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            g = grads[name]
            h = self.slot("h", name, p, self.h0)
            h += g * g
            p -= self.lr * g / np.sqrt(h)
