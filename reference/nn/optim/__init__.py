"""Optimizers (course §5.4): each updates a dict of parameter arrays in place from a dict of
gradients, keeping its per-parameter state by parameter name."""

from reference.nn.optim.adadelta import AdaDelta
from reference.nn.optim.adagrad import AdaGrad
from reference.nn.optim.adam import Adam
from reference.nn.optim.base import Optimizer
from reference.nn.optim.momentum import Momentum
from reference.nn.optim.rmsprop import RMSProp
from reference.nn.optim.sgd import SGD

__all__ = ["SGD", "AdaDelta", "AdaGrad", "Adam", "Momentum", "Optimizer", "RMSProp"]
