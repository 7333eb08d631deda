"""A7 and everything together: conv – BatchNorm – ReLU – overlapping 3×3 max-pool with
stride 2 (the general pooling path) – affine – ReLU – dropout – affine, Adam with L2
weight decay λ = 1e-4."""

from reference.tasks.configs.layers import RELU, affine, conv, dropout
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a7_pool",
    description=__doc__,
    layers=(conv(32), {"kind": "batchnorm"}, RELU, {"kind": "maxpool2d", "size": 3, "stride": 2},
            affine(128), RELU, dropout(0.3), affine(10)),
    optimizer={"kind": "adam"},
    regularizer={"kind": "l2", "lam": 1e-4},
    epochs=10,
)
