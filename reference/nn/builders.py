"""Ready-made networks used by the task programs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference.nn.affine import Affine
from reference.nn.layer import Layer
from reference.nn.model import Sequential
from reference.nn.sigmoid import Sigmoid


def mlp(
    sizes: Sequence[int],
    rng: np.random.Generator,
    activation: type[Layer] = Sigmoid,
    gain: float = 1.0,
) -> Sequential:
    """Affine layers of the given widths with ``activation`` between them.

    ``mlp([784, 100, 10], rng)`` is the 3-layer network of tasks 1–4 (§4.2.1, eq. 1–5):
    784 inputs, M = 100 sigmoid nodes, 10 outputs fed to the softmax, weights from
    N(0, 1/N).
    """
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Affine(n_in, n_out, rng, gain))
        if i < len(sizes) - 2:
            layers.append(activation())
    return Sequential(layers)


def flatten_images(images: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Input layer preprocessing (§4.2): (N, H, W) uint8 → (N, H·W) in [0, 1]."""
    return images.reshape(len(images), -1).astype(dtype) / 255.0
