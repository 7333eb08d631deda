"""A1: the 3-layer MLP with ReLU (eq. 24–25) instead of the sigmoid, He initialisation."""

from reference.tasks.configs.layers import relu_mlp
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a1_relu",
    description=__doc__,
    layers=relu_mlp(),
    optimizer={"kind": "sgd", "lr": 0.5},
    epochs=20,
)
