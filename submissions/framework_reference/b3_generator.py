"""B3: the reference DCGAN generator, built for ``b3_generator.pt``.

Input noise ``(N, LATENT_DIM)`` ~ N(0, I); output images ``(N, 1, 28, 28)`` in [-1, 1].
"""

from reference.torch_adapter.models import Generator

LATENT_DIM = 100


def build_generator():
    return Generator(LATENT_DIM)
