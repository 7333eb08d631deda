"""AdaDelta (course eq. 46–49): no learning rate to choose."""

from __future__ import annotations

import numpy as np

from reference.nn.optim.base import Optimizer


class AdaDelta(Optimizer):
    """h ← ρ h + (1 − ρ) ∂E_n/∂W ∘ ∂E_n/∂W (eq. 46);
    ΔW ← −√(s + ε) / √(h + ε) · ∂E_n/∂W (eq. 47);
    s ← ρ s + (1 − ρ) ΔW ∘ ΔW (eq. 48); W ← W + ΔW (eq. 49).

    h and s start at 0. Defaults are those of the AdaDelta paper the course cites:
    ρ = 0.95, ε = 1e-6.
    """

    kind = "adadelta"

    def __init__(self, rho: float = 0.95, eps: float = 1e-6) -> None:
        super().__init__()
        self.rho, self.eps = rho, eps

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            g = grads[name]
            h, s = self.slot("h", name, p), self.slot("s", name, p)
            h *= self.rho
            h += (1.0 - self.rho) * g * g
            delta = -np.sqrt(s + self.eps) / np.sqrt(h + self.eps) * g
            s *= self.rho
            s += (1.0 - self.rho) * delta * delta
            p += delta
