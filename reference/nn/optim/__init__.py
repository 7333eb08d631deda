"""Optimizers: each updates a dict of parameter arrays in place from a dict of gradients."""

from reference.nn.optim.base import Optimizer
from reference.nn.optim.sgd import SGD

__all__ = ["SGD", "Optimizer"]
