"""Layers, losses, optimizers, the sequential model, the trainer and parameter files."""

from reference.nn.affine import Affine
from reference.nn.io import ModelFileError, load_model, save_model
from reference.nn.layer import Layer
from reference.nn.model import Sequential
from reference.nn.optim import SGD, Optimizer
from reference.nn.sigmoid import Sigmoid, sigmoid
from reference.nn.softmax import SoftmaxCrossEntropy, cross_entropy, softmax
from reference.nn.trainer import EpochRecord, History, evaluate, train

__all__ = [
    "SGD",
    "Affine",
    "EpochRecord",
    "History",
    "Layer",
    "ModelFileError",
    "Optimizer",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "cross_entropy",
    "evaluate",
    "load_model",
    "save_model",
    "sigmoid",
    "softmax",
    "train",
]
