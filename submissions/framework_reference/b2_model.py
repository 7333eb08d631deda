"""B2: the reference smile classifier, built for ``b2_weights.pt``.

Input ``(N, 3, H, W)`` float32 in [0, 1] with ``(H, W) = INPUT_SIZE``; output logits
``(N, 2)``: 0 = nonsmile, 1 = smile.
"""

from reference.torch_adapter.models import b2_cnn

INPUT_SIZE = (64, 64)


def build_model():
    return b2_cnn()
