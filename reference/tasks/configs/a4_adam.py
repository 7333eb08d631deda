"""A4: A1's ReLU MLP trained with Adam (eq. 50–55) at the paper's defaults; pick another
optimizer of §5.4 with --optimizer (sgd, momentum, adagrad, rmsprop, adadelta, adam)."""

from reference.tasks.configs.layers import relu_mlp
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a4_adam",
    description=__doc__,
    layers=relu_mlp(),
    optimizer={"kind": "adam"},
    epochs=20,
)
