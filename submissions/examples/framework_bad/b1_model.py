"""B1 with a realistic mistake: the hidden layer was widened from 32 to 64 units after
``b1_weights.pt`` had been saved, so the state dict no longer fits the model."""

from torch import nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 10))
