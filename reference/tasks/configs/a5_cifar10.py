"""A5: colour input — the A6/A7 CNN on CIFAR-10's 3×32×32 images (needs CIFAR10_DIR)."""

from reference.tasks.configs.layers import cnn
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a5_cifar10",
    description=__doc__,
    dataset="cifar10",
    layers=cnn(),
    optimizer={"kind": "adam"},
    epochs=10,
)
