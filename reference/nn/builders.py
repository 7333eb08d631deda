"""Ready-made networks and input preprocessing used by the task programs."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

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
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(Affine(n_in, n_out, rng, gain))
        if i < len(sizes) - 2:
            layers.append(activation())
    return Sequential(layers)


def build(
    spec: Sequence[dict[str, Any]], input_shape: tuple[int, ...], rng: np.random.Generator
) -> Sequential:
    """A network from a list of ``{"kind": ..., **constructor arguments}`` dicts.

    Sizes that follow from the previous layer's output (an affine layer's
    ``in_features``, a conv's ``in_channels``, BatchNorm's ``num_features``) may be
    left out: they are inferred by passing a dummy sample of ``input_shape`` (without the
    batch axis, e.g. ``(1, 28, 28)``) through the layers built so far. So one
    description serves MNIST (1×28×28) and CIFAR-10 (3×32×32).
    """
    layers: list[Layer] = []
    sample = np.zeros((1, *input_shape))
    for entry in spec:
        kind = entry.get("kind", "")
        config = {k: v for k, v in entry.items() if k != "kind"}
        if kind in Layer.registry:
            config = Layer.registry[kind].infer_config(config, sample.shape[1:])
        layer = Layer.from_config(kind, config, rng)
        sample = layer.forward(sample)
        layers.append(layer)
    return Sequential(layers)


def flatten_images(images: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Input layer preprocessing (§4.2): (N, H, W) uint8 → (N, H·W) in [0, 1]."""
    return images.reshape(len(images), -1).astype(dtype) / 255.0


def images_to_tensor(images: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Input layer for image-shaped networks (§5.5, §5.6.1): uint8 → (N, C, H, W) in [0, 1].

    Grey images (N, H, W) get one channel; colour images are already (N, C, H, W).
    Affine layers flatten their input, so the result also feeds a plain MLP.
    """
    tensor = images.astype(dtype) / 255.0
    return tensor[:, None] if images.ndim == 3 else tensor
