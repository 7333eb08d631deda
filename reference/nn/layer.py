"""The interface every layer of the reference network implements."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np


class Layer:
    """One node of the computation graph, as in the course: forward, then backward.

    ``params`` and ``grads`` map a parameter name (``"W"``, ``"b"`` …) to an array;
    ``backward`` fills ``grads`` with the same keys and shapes. Layers without
    parameters leave both empty.
    """

    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Layer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Layer.registry[cls.kind] = cls

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer's architecture (not its values)."""
        return {}

    def astype(self, dtype: np.dtype | type) -> None:
        """Cast parameters (and any float state) to ``dtype`` in place of the old arrays."""
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)
        self.grads = {}

    @staticmethod
    def from_config(kind: str, config: dict[str, Any]) -> Layer:
        """Rebuild a layer of a registered ``kind``; unknown kinds are a clear error."""
        try:
            cls = Layer.registry[kind]
        except KeyError:
            known = ", ".join(sorted(Layer.registry))
            raise ValueError(f"unknown layer kind {kind!r} (known: {known})") from None
        return cls(**config)
