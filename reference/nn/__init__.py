"""Layers, losses, optimizers, the sequential model, the trainer and parameter files."""

from reference.nn.affine import Affine
from reference.nn.batchnorm import BatchNorm
from reference.nn.conv import Conv2d
from reference.nn.dropout import Dropout
from reference.nn.flatten import Flatten
from reference.nn.io import ModelFileError, load_model, save_model
from reference.nn.layer import Layer
from reference.nn.model import Sequential
from reference.nn.optim import SGD, AdaDelta, AdaGrad, Adam, Momentum, Optimizer, RMSProp
from reference.nn.pool import MaxPool2d
from reference.nn.regularizers import L1, L2, Regularizer
from reference.nn.relu import ReLU, relu
from reference.nn.sigmoid import Sigmoid, sigmoid
from reference.nn.softmax import SoftmaxCrossEntropy, cross_entropy, softmax
from reference.nn.trainer import EpochRecord, History, evaluate, train

__all__ = [
    "L1",
    "L2",
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "Affine",
    "BatchNorm",
    "Conv2d",
    "Dropout",
    "EpochRecord",
    "Flatten",
    "History",
    "Layer",
    "MaxPool2d",
    "ModelFileError",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "ReLU",
    "Regularizer",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "cross_entropy",
    "evaluate",
    "load_model",
    "relu",
    "save_model",
    "sigmoid",
    "softmax",
    "train",
]
