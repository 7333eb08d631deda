"""The networks of part 2. Classifiers return logits; the DCGAN follows the course's list.

Input conventions: MNIST images ``(N, 1, 28, 28)`` in [0, 1] for the classifiers, images
``(N, 3, H, W)`` in [0, 1] of any size for the smile classifier, noise ``(N, LATENT_DIM)``
for the generator, whose images ``(N, 1, 28, 28)`` are in [-1, 1] (tanh), the range the
discriminator is trained on.
"""

from __future__ import annotations

import torch
from torch import nn

N_DIGITS = 10
LATENT_DIM = 100  # "z の次元 d_n は 100 程度"
FEATURE_DIM = 64


def b1_overfit() -> nn.Sequential:
    """B1-(1): a wide MLP without any regularisation, 784 → 1024 → 1024 → 10.

    About 1.9 M weights for a few hundred training images: it can memorise them all,
    which is the point of this configuration.
    """
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 1024), nn.ReLU(),
        nn.Linear(1024, 1024), nn.ReLU(),
        nn.Linear(1024, N_DIGITS),
    )


def b1_cnn() -> nn.Sequential:
    """B1-(2): the course's two 3×3 convolutions (32, 64 channels), each followed here by
    batch normalisation and 2×2 max pooling, then dropout and a 128-unit layer.

    ``(N, 1, 28, 28)`` → ``(N, 32, 14, 14)`` → ``(N, 64, 7, 7)`` → ``(N, 128)`` → ``(N, 10)``.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, N_DIGITS),
    )


def b2_cnn() -> nn.Sequential:
    """B2: three convolution blocks and a global max pool, so any image size works.

    ``(N, 3, H, W)`` → ``(N, 16, H/2, W/2)`` → ``(N, 32, H/4, W/4)`` → ``(N, 64, H/8, W/8)``
    → ``(N, 64)`` → logits ``(N, 2)`` (0 = nonsmile, 1 = smile: folder names in order).
    The max (not the mean) over positions answers "is there a smiling mouth anywhere":
    with an average the small mouth's response is diluted by the whole face and
    background, and training stalls near chance for many epochs.
    """
    blocks: list[nn.Module] = []
    for c_in, c_out in ((3, 16), (16, 32), (32, 64)):
        blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                   nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*blocks, nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Dropout(0.3),
                         nn.Linear(64, 2))


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: weights from N(0, 0.02²), BN scales from N(1, 0.02²)."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """G(z): noise ``(N, latent_dim)`` → images ``(N, 1, 28, 28)`` in [-1, 1].

    A linear projection to ``(2w, 7, 7)``, then two stride-2 transposed convolutions
    (7 → 14 → 28) instead of upsampling by pooling's inverse; batch normalisation and ReLU
    everywhere but the output, which is tanh — the DCGAN recommendations of §6.6.
    """

    def __init__(self, latent_dim: int = LATENT_DIM, width: int = 32) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z)
        return self.upsample(h.view(len(z), -1, 7, 7))


class Discriminator(nn.Module):
    """D(x) as a logit: images ``(N, 1, 28, 28)`` in [-1, 1] → ``(N,)``; σ(logit) = P(real).

    Stride-2 convolutions (28 → 14 → 7) instead of pooling, LeakyReLU(0.2), batch
    normalisation on every layer but the first (DCGAN). Returning the logit lets the loss
    use the numerically stable ``binary_cross_entropy_with_logits``.
    """

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1))
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class FeatureNet(nn.Module):
    """The project's own small MNIST classifier whose penultimate layer gives the features
    of the GAN quality score (the role Inception-v3 plays for FID on photographs).

    ``(N, 1, 28, 28)`` in [0, 1] → :meth:`features` ``(N, 64)`` → logits ``(N, 10)``.
    """

    def __init__(self) -> None:
        super().__init__()
        # Batch normalisation lets it learn in a few hundred steps: it is trained anew
        # for every grading run.
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, N_DIGITS)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
