"""Layer lists the configs share, as :func:`reference.nn.builders.build` specs."""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]


def affine(out_features: int, init: str = "he") -> Spec:
    return {"kind": "affine", "out_features": out_features, "init": init}


def conv(out_channels: int, kernel_size: int = 3) -> Spec:
    """A conv with "same" zero padding ⌊R/2⌋ (§5.6.2), He-initialised for the ReLU after it."""
    return {"kind": "conv2d", "out_channels": out_channels, "kernel_size": kernel_size,
            "padding": kernel_size // 2, "init": "he"}


RELU: Spec = {"kind": "relu"}
POOL2: Spec = {"kind": "maxpool2d", "size": 2}


def dropout(rate: float) -> Spec:
    return {"kind": "dropout", "rate": rate}


def relu_mlp(hidden: int = 100) -> tuple[Spec, ...]:
    """The 3-layer network of §4.2.1 with ReLU (eq. 24) in place of the sigmoid."""
    return (affine(hidden), RELU, affine(10))


def cnn() -> tuple[Spec, ...]:
    """Two conv–ReLU–pool blocks (A6, A7), then an affine–ReLU–dropout–affine head."""
    return (conv(16), RELU, POOL2, conv(32), RELU, POOL2,
            affine(128), RELU, dropout(0.3), affine(10))
