"""Build a reference layer or optimizer from the grader's kind names and settings.

The grader describes every case in one vocabulary, whatever the student's class
names: a layer ``kind`` with its parameter arrays (course conventions: affine ``W``
is (out, in), conv ``W`` is (K, C, kh, kw)) and a ``config``:

============================  ==============================================
kind                          config
============================  ==============================================
affine, sigmoid, relu         —
softmax_cross_entropy         —
dropout                       ``ratio`` ρ
batchnorm                     ``eps`` ε, ``momentum`` (running = m·running + (1−m)·batch)
conv2d                        ``stride``, ``pad``
maxpool2d                     ``size``, ``stride`` (``pad`` > 0 is refused: no padding)
============================  ==============================================

Optimizers take the course's symbols: ``lr`` (η), ``alpha`` (the momentum α of eq. 40,
or Adam's step size α of eq. 55), ``rho``, ``eps``, ``beta1``, ``beta2``, ``h0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.affine import Affine
from reference.nn.batchnorm import BatchNorm
from reference.nn.conv import Conv2d
from reference.nn.dropout import Dropout
from reference.nn.optim import Optimizer
from reference.nn.pool import MaxPool2d
from reference.nn.relu import ReLU
from reference.nn.sigmoid import Sigmoid
from reference.nn.softmax import SoftmaxCrossEntropy

LAYER_KINDS = ("affine", "sigmoid", "relu", "softmax_cross_entropy", "dropout", "batchnorm",
               "conv2d", "maxpool2d")
OPTIMIZER_KINDS = ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam")


def build_layer(kind: str, params: dict[str, np.ndarray], config: dict[str, Any]) -> Any:
    """A reference layer of ``kind`` holding copies of ``params``."""
    if kind == "affine":
        out_features, in_features = params["W"].shape
        layer = Affine(in_features, out_features)
    elif kind == "conv2d":
        k, c, kh, kw = params["W"].shape
        layer = Conv2d(c, k, (kh, kw), config.get("stride", 1), config.get("pad", 0))
    elif kind == "batchnorm":
        layer = BatchNorm(len(params["gamma"]), config.get("eps", 1e-5),
                          config.get("momentum", 0.9))
    elif kind == "dropout":
        layer = Dropout(config.get("ratio", 0.5), np.random.default_rng(config.get("seed", 0)))
    elif kind == "maxpool2d":
        if config.get("pad", 0):
            raise ValueError("the reference MaxPool2d has no padding (pad must be 0)")
        layer = MaxPool2d(config.get("size", 2), config.get("stride"))
    else:
        simple = {"sigmoid": Sigmoid, "relu": ReLU, "softmax_cross_entropy": SoftmaxCrossEntropy}
        if kind not in simple:
            raise ValueError(f"unknown layer kind {kind!r} (known: {', '.join(LAYER_KINDS)})")
        return simple[kind]()
    for name, value in params.items():
        layer.params[name] = np.array(value, dtype=np.float64)
    return layer


def build_optimizer(kind: str, hyper: dict[str, float]) -> Optimizer:
    """A reference optimizer of ``kind`` with the given hyper-parameters."""
    return Optimizer.create(kind, **hyper)
