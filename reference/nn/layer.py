"""The interface every layer of the reference network implements."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np


class Layer:
    """One node of the computation graph, as in the course: forward, then backward.

    ``params`` and ``grads`` map a parameter name (``"W"``, ``"b"`` …) to an array;
    ``backward`` fills ``grads`` with the same keys and shapes. Layers without
    parameters leave both empty. ``state`` holds arrays that are not learned by
    gradient descent but belong to the trained model (BatchNorm's running mean and
    variance): they are saved, loaded and cast like parameters.

    ``weight_names`` lists the parameters that weight decay applies to (weights, not
    biases or BatchNorm's γ, β). ``input_grad`` may be set to False by a model for its
    first layer, whose input needs no gradient; layers may then skip computing it and
    return None from ``backward``.
    """

    kind: ClassVar[str] = ""
    weight_names: ClassVar[tuple[str, ...]] = ()
    registry: ClassVar[dict[str, type[Layer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Layer.registry[cls.kind] = cls

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.input_grad = True

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this layer's architecture (not its values)."""
        return {}

    @classmethod
    def infer_config(cls, config: dict[str, Any], in_shape: tuple[int, ...]) -> dict[str, Any]:
        """Fill in the sizes a config may leave out, from the shape of one input sample.

        ``in_shape`` excludes the batch axis, e.g. ``(1, 28, 28)``. Layers whose size
        follows from their input (Affine's ``in_features`` …) override this, so a network
        description can be written once for MNIST and CIFAR-10.
        """
        return dict(config)

    def astype(self, dtype: np.dtype | type) -> None:
        """Cast parameters and state to ``dtype`` in place of the old arrays."""
        for store in (self.params, self.state):
            for name, value in store.items():
                store[name] = value.astype(dtype)
        self.grads = {}

    @staticmethod
    def from_config(
        kind: str, config: dict[str, Any], rng: np.random.Generator | None = None
    ) -> Layer:
        """Rebuild a layer of a registered ``kind``; unknown kinds are a clear error.

        ``rng`` is handed to layers that draw random numbers (initial weights, dropout
        masks) and ignored by the others.
        """
        try:
            cls = Layer.registry[kind]
        except KeyError:
            known = ", ".join(sorted(Layer.registry))
            raise ValueError(f"unknown layer kind {kind!r} (known: {known})") from None
        if rng is not None and "rng" in inspect.signature(cls).parameters:
            return cls(**config, rng=rng)
        return cls(**config)
