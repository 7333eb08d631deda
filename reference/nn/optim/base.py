"""The optimizer interface."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np


class Optimizer:
    """Updates parameters in place: ``update(params, grads)`` with dicts keyed alike.

    Per-parameter state (velocities, running averages) is kept in dicts keyed by the
    same names, so one optimizer serves a whole network.
    """

    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Optimizer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Optimizer.registry[cls.kind] = cls

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    @staticmethod
    def create(kind: str, **hyper: float) -> Optimizer:
        """Build a registered optimizer by name (``"sgd"``, …) with its hyper-parameters."""
        try:
            cls = Optimizer.registry[kind]
        except KeyError:
            known = ", ".join(sorted(Optimizer.registry))
            raise ValueError(f"unknown optimizer {kind!r} (known: {known})") from None
        return cls(**hyper)
