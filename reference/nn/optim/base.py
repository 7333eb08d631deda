"""The optimizer interface."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np


class Optimizer:
    """Updates parameters in place: ``update(params, grads)`` with dicts keyed alike.

    Per-parameter state (velocities, running averages) lives in ``slots``: one dict per
    quantity of the update rule (``"h"``, ``"m"`` …) keyed by parameter name, so one
    optimizer serves a whole network and each parameter keeps its own history.
    """

    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Optimizer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Optimizer.registry[cls.kind] = cls

    def __init__(self) -> None:
        self.slots: dict[str, dict[str, np.ndarray]] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def slot(self, quantity: str, name: str, like: np.ndarray, initial: float = 0.0) -> np.ndarray:
        """The array ``quantity`` of parameter ``name``, created filled with ``initial``
        (shape and dtype of ``like``) on first use."""
        per_name = self.slots.setdefault(quantity, {})
        if name not in per_name:
            per_name[name] = np.full_like(like, initial)
        return per_name[name]

    @staticmethod
    def create(kind: str, **hyper: float) -> Optimizer:
        """Build a registered optimizer by name (``"sgd"``, …) with its hyper-parameters."""
        try:
            cls = Optimizer.registry[kind]
        except KeyError:
            known = ", ".join(sorted(Optimizer.registry))
            raise ValueError(f"unknown optimizer {kind!r} (known: {known})") from None
        return cls(**hyper)
