"""A sequential network: layers applied in order, then softmax + cross-entropy."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from reference.nn.layer import Layer
from reference.nn.softmax import SoftmaxCrossEntropy, softmax


class Sequential:
    """Layers applied in order; the loss is softmax + cross-entropy on the last output.

    Parameters are addressed as ``"<layer index>.<name>"`` (e.g. ``"0.W"``) so an
    optimizer can keep per-parameter state and a file can store them flat; layer state
    (BatchNorm's running statistics) is addressed the same way.

    The first layer's input is data, so the model tells that layer not to compute
    ∂E/∂x (``input_grad = False``).
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)
        if self.layers:
            self.layers[0].input_grad = False
        self.loss_layer = SoftmaxCrossEntropy()

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Logits for a batch ``x`` (B, ...) → (B, C)."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def loss(self, x: np.ndarray, labels: np.ndarray, train: bool = True) -> float:
        """Mean cross-entropy E_n (eq. 8) of a minibatch; keeps what backward needs."""
        return self.loss_layer.forward(self.forward(x, train), labels)

    def backward(self) -> None:
        """Backpropagate from the last :meth:`loss` call; fills every layer's ``grads``."""
        grad = self.loss_layer.backward()
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def predict_proba(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Softmax outputs y^(2) (eq. 5) in test mode, batched to bound memory."""
        parts = [softmax(self.forward(x[i : i + batch_size])) for i in
                 range(0, len(x), batch_size)]
        return np.concatenate(parts)

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """The class of largest likelihood for each sample, shape (B,)."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def named_params(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, value in layer.params.items():
                yield f"{i}.{name}", value

    def named_state(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, value in layer.state.items():
                yield f"{i}.{name}", value

    def params_and_grads(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Two flat dicts of live arrays, keyed alike; updating a value updates the layer."""
        params, grads = {}, {}
        for i, layer in enumerate(self.layers):
            for name, value in layer.params.items():
                params[f"{i}.{name}"] = value
                grads[f"{i}.{name}"] = layer.grads[name]
        return params, grads

    def astype(self, dtype: np.dtype | type) -> Sequential:
        """Switch every parameter and state array to ``dtype`` (float32 to train, float64 to
        check gradients)."""
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def architecture(self) -> list[dict[str, Any]]:
        """What :func:`reference.nn.io.load_model` needs to rebuild the layers."""
        return [{"kind": layer.kind, "config": layer.config()} for layer in self.layers]

    @classmethod
    def from_architecture(cls, arch: list[dict[str, Any]]) -> Sequential:
        return cls([Layer.from_config(spec["kind"], spec["config"]) for spec in arch])
