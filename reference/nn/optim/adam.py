"""Adam (course eq. 50–55)."""

from __future__ import annotations

import numpy as np

from reference.nn.optim.base import Optimizer


class Adam(Optimizer):
    """t ← t + 1 (eq. 50); m ← β₁ m + (1 − β₁) ∂E_n/∂W (eq. 51);
    v ← β₂ v + (1 − β₂) ∂E_n/∂W ∘ ∂E_n/∂W (eq. 52); m̂ ← m / (1 − β₁ᵗ) (eq. 53);
    v̂ ← v / (1 − β₂ᵗ) (eq. 54); W ← W − α m̂ / (√v̂ + ε) (eq. 55).

    t, m, v start at 0; t counts the updates of each parameter. Defaults are those of the
    Adam paper the course cites: α = 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    """

    kind = "adam"

    def __init__(
        self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__()
        self.alpha, self.beta1, self.beta2, self.eps = alpha, beta1, beta2, eps
        self.steps: dict[str, int] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            g = grads[name]
            t = self.steps[name] = self.steps.get(name, 0) + 1
            m, v = self.slot("m", name, p), self.slot("v", name, p)
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            m_hat = m / (1.0 - self.beta1**t)
            v_hat = v / (1.0 - self.beta2**t)
            p -= self.alpha * m_hat / (np.sqrt(v_hat) + self.eps)
