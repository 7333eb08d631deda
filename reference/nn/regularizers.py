"""Weight decay: L1 and L2 penalties on the weight tensors, applied by the trainer.

A regularizer adds its penalty R(W) to the minimised loss E_n + Σ R(W) and its
derivative ∂R/∂W to the gradient of every weight tensor (the parameters a layer lists
in ``weight_names``: affine and conv weights, not biases nor BatchNorm's γ, β).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from reference.nn.model import Sequential


class Regularizer:
    """Penalty ``penalty(W)`` and its gradient ``gradient(W)`` with strength λ (``lam``)."""

    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Regularizer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Regularizer.registry[cls.kind] = cls

    def __init__(self, lam: float) -> None:
        self.lam = lam

    def penalty(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def apply(self, model: Sequential) -> float:
        """Add ∂R/∂W to the gradients left by ``model.backward()``; return Σ R(W).

        Call it after backward and before the optimizer step, so that the penalty and its
        gradient are taken at the same weights as the data gradient.
        """
        total = 0.0
        for layer in model.layers:
            for name in layer.weight_names:
                w = layer.params[name]
                layer.grads[name] += self.gradient(w)
                total += self.penalty(w)
        return total

    @staticmethod
    def create(kind: str, lam: float) -> Regularizer:
        """Build ``"l1"`` or ``"l2"`` with strength ``lam``; unknown kinds are a clear error."""
        try:
            return Regularizer.registry[kind](lam)
        except KeyError:
            known = ", ".join(sorted(Regularizer.registry))
            raise ValueError(f"unknown regularizer {kind!r} (known: {known})") from None


class L2(Regularizer):
    """R(W) = λ/2 · Σ W², so ∂R/∂W = λ W: weight decay proper."""

    kind = "l2"

    def penalty(self, w: np.ndarray) -> float:
        return 0.5 * self.lam * float(np.vdot(w, w))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return self.lam * w


class L1(Regularizer):
    """R(W) = λ · Σ |W|, so ∂R/∂W = λ sign(W) (0 at W = 0): drives weights to exactly 0."""

    kind = "l1"

    def penalty(self, w: np.ndarray) -> float:
        return self.lam * float(np.abs(w).sum())

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return self.lam * np.sign(w)
