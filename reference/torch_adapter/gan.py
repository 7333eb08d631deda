"""DCGAN training as in Algorithm 1 (§6.6), with the generator loss of footnote 5.

Each iteration trains the discriminator D on B/2 real and B/2 generated images (labels 1
and 0), then the generator G through D with D's parameters frozen (the course's model
(iii)), on B noise vectors all labelled 1. Minimising −log D(G(z)) rather than
log(1 − D(G(z))) (footnote 5) gives G strong gradients early, when D rejects its images
easily. Images are in [-1, 1] throughout.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from reference.data import Dataset
from reference.torch_adapter.mnist import images_to_tensor
from reference.torch_adapter.models import Discriminator, Generator

STATS = ("d_loss", "g_loss", "d_real", "d_fake")


def noise(n: int, latent_dim: int, generator: torch.Generator,
          device: torch.device) -> torch.Tensor:
    """z ~ N(0, I): ``(n, latent_dim)``, drawn on the CPU so every device sees the same z."""
    return torch.randn((n, latent_dim), generator=generator).to(device)


def real_batches(dataset: Dataset, half_batch: int, generator: torch.Generator) -> DataLoader:
    """Shuffled batches of B/2 training images ``(B/2, 1, 28, 28)`` scaled to [-1, 1].

    Incomplete last batches are dropped: every D step sees exactly B/2 real images.
    """
    images = images_to_tensor(dataset.train_images) * 2 - 1
    return DataLoader(TensorDataset(images), batch_size=half_batch, shuffle=True,
                      generator=generator, drop_last=True)


def train_step(g: Generator, d: Discriminator, opt_g: torch.optim.Optimizer,
               opt_d: torch.optim.Optimizer, real: torch.Tensor,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One iteration of Algorithm 1 with B = 2 · len(real).

    Parameters
    ----------
    real : Tensor, shape (B/2, 1, 28, 28), in [-1, 1], on the models' device
    generator : draws the noise

    Returns
    -------
    dict of scalar tensors
        ``d_loss`` and ``g_loss``, and ``d_real`` / ``d_fake``: D's mean probability of
        "real" on the real and the generated half of its batch.
    """
    half, device = len(real), real.device
    fake = g(noise(half, g.latent_dim, generator, device)).detach()
    # The B images go through D as two half batches, so that batch normalisation sees
    # all-real and all-generated batches, as in the G step below; one mixed batch would
    # give D statistics that G's all-generated batches never have, and D's verdict in the
    # G step would then not be the one it learned. The loss is still the mean over all B.
    real_logits, fake_logits = d(real), d(fake)
    d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
              + F.binary_cross_entropy_with_logits(fake_logits,
                                                   torch.zeros_like(fake_logits))) / 2
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()

    d.requires_grad_(False)
    fooled = d(g(noise(2 * half, g.latent_dim, generator, device)))
    g_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    d.requires_grad_(True)

    return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean()}


def train_epoch(g: Generator, d: Discriminator, opt_g: torch.optim.Optimizer,
                opt_d: torch.optim.Optimizer, batches: DataLoader, generator: torch.Generator,
                device: torch.device) -> dict[str, float]:
    """One pass over the real images; the means of :func:`train_step`'s statistics."""
    g.train()
    d.train()
    sums = dict.fromkeys(STATS, torch.zeros((), device=device))
    for (real,) in batches:
        stats = train_step(g, d, opt_g, opt_d, real.to(device), generator)
        sums = {k: sums[k] + stats[k] for k in STATS}
    return {k: v.item() / len(batches) for k, v in sums.items()}


@torch.no_grad()
def generate(g: Generator, z: torch.Tensor) -> np.ndarray:
    """G's images for noise ``z`` ``(N, latent_dim)``, in eval mode (BN running statistics,
    as a submitted generator is run), as ``(N, 28, 28)`` floats in [0, 1]."""
    was_training = g.training
    g.eval()
    images = torch.cat([g(part) for part in z.split(500)])
    g.train(was_training)
    return ((images.squeeze(1).cpu().numpy() + 1) / 2).clip(0, 1)
