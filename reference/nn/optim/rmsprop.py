"""RMSProp (course eq. 44–45)."""

from __future__ import annotations

import numpy as np

from reference.nn.optim.base import Optimizer


class RMSProp(Optimizer):
    """h ← ρ h + (1 − ρ) ∂E_n/∂W ∘ ∂E_n/∂W (eq. 44); W ← W − η / (√h + ε) · ∂E_n/∂W (eq. 45).

    h starts at 0. Defaults are the course's suggestion η = 0.001, ρ = 0.9, ε = 1e-8.
    """

    kind = "rmsprop"

    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr, self.rho, self.eps = lr, rho, eps

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            g = grads[name]
            h = self.slot("h", name, p)
            h *= self.rho
            h += (1.0 - self.rho) * g * g
            p -= self.lr * g / (np.sqrt(h) + self.eps)
