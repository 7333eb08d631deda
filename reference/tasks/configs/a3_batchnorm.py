"""A3: ReLU MLP with Batch Normalization (eq. 28–38) before the activation, trained with
SGD at η = 5.0: ten times A1's rate, at which the same network without BatchNorm diverges."""

from reference.tasks.configs.layers import RELU, affine
from reference.tasks.configs.schema import TrainConfig

CONFIG = TrainConfig(
    name="a3_batchnorm",
    description=__doc__,
    layers=(affine(100), {"kind": "batchnorm"}, RELU, affine(10)),
    optimizer={"kind": "sgd", "lr": 5.0},
    epochs=20,
)
