"""B1: the reference MNIST CNN, built for ``b1_weights.pt``.

Input ``(N, 1, 28, 28)`` float32 in [0, 1] (pixel / 255); output logits ``(N, 10)``.
"""

from reference.torch_adapter.models import b1_cnn


def build_model():
    return b1_cnn()
