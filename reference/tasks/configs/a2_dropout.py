"""A2: ReLU MLP with dropout ρ = 0.2 on the hidden layer (eq. 26–27), trained with Adam."""

from reference.tasks.configs.layers import RELU, affine, dropout
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a2_dropout",
    description=__doc__,
    layers=(affine(256), RELU, dropout(0.2), affine(10)),
    optimizer={"kind": "adam"},
    epochs=20,
)
