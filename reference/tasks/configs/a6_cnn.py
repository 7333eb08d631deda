"""A6 + A7: a CNN of two 3×3 conv (im2col, eq. 56–62) – ReLU – 2×2 max-pool (eq. 63–64)
blocks and an affine head with dropout, trained with Adam."""

from reference.tasks.configs.layers import cnn
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a6_cnn",
    description=__doc__,
    layers=cnn(),
    optimizer={"kind": "adam"},
    epochs=10,
)
