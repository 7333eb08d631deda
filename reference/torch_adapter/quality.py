"""An offline quality score of generated MNIST digits (B3), from the project's own classifier.

A small CNN (:class:`~reference.torch_adapter.models.FeatureNet`) is trained on the real
training images with a fixed seed. Its penultimate layer gives the features of a Fréchet
distance (FID) to real test images, its softmax gives a classifier-based inception score
and the digits a generator covers. Absolute FIDs depend on the feature network, so every
FID is reported between two references computed the same way and with the same number of
images: a *floor* (real test images against other real test images) and a *ceiling*
(uniform noise images).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reference.data import Dataset
from reference.torch_adapter import mnist
from reference.torch_adapter.models import FeatureNet
from reference.torch_adapter.runtime import pick_device, seeded
from reference.torch_adapter.trainer import fit

MIN_SHARE = 0.02  # a digit counts as covered from 2 % of the samples (a balanced G gives 10 %)
FEATURE_TRAIN_LIMIT = 10_000  # plenty for a 10-class feature net; keeps full MNIST quick


@dataclass(frozen=True)
class Scores:
    """The quality of one set of images.

    Attributes
    ----------
    fid : Fréchet distance of the features to the real reference set (lower is better)
    inception_score : exp(E_x KL(p(y|x) ‖ p(y))), between 1 and 10 (higher is better)
    coverage : number of digits predicted for at least :data:`MIN_SHARE` of the images
    class_shares : share of the images predicted as each digit 0–9
    pixel_std : mean over pixels of the standard deviation across images; near 0 when all
        images are the same (a generator that ignores its noise)
    """

    fid: float
    inception_score: float
    coverage: int
    class_shares: tuple[float, ...]
    pixel_std: float


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` of ``features`` ``(N, D)``, in float64."""
    f = np.asarray(features, dtype=np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix (tiny negative
    eigenvalues from rounding are clipped to 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray,
                     cov2: np.ndarray) -> float:
    """‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½) between two Gaussians.

    tr((Σ₁Σ₂)^½) is computed as tr((Σ₁^½ Σ₂ Σ₁^½)^½): the same eigenvalues, but of a
    symmetric matrix, so no complex square roots appear.

    Parameters
    ----------
    mu1, mu2 : ndarray, shape (D,)
    cov1, cov2 : ndarray, shape (D, D), symmetric positive semi-definite
    """
    root1 = _psd_sqrt(cov1)
    cross = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    trace_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
    value = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt
    return float(max(value, 0.0))


def inception_score(probs: np.ndarray) -> float:
    """exp of the mean KL divergence of p(y|x) from the marginal p(y).

    Parameters
    ----------
    probs : ndarray, shape (N, K)
        Class probabilities of each image.
    """
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def class_shares(probs: np.ndarray) -> np.ndarray:
    """Share of the images ``(N, K)`` whose most probable class is each k, shape ``(K,)``."""
    k = probs.shape[1]
    return np.bincount(probs.argmax(axis=1), minlength=k) / len(probs)


class Scorer:
    """Scores images against a real reference set with a trained feature network.

    Build it with :meth:`train`. ``floor`` and ``ceiling`` are the scores of a second real
    set and of uniform noise, each as large as the reference set.
    """

    def __init__(self, net: FeatureNet, reference: np.ndarray, second_real: np.ndarray,
                 noise: np.ndarray, device: torch.device, test_accuracy: float) -> None:
        self.net, self.device, self.test_accuracy = net.eval(), device, test_accuracy
        self.n = len(reference)
        features, _ = self._forward(reference)
        self._mu, self._cov = gaussian_stats(features)
        self.floor = self.score(second_real)
        self.ceiling = self.score(noise)

    @classmethod
    def train(cls, dataset: Dataset, *, n_reference: int = 500, seed: int = 0, epochs: int = 3,
              device: torch.device | None = None) -> Scorer:
        """Train the feature network on ``dataset``'s training images and take two disjoint
        reference sets of ``n_reference`` test images (fewer if the test set is small).

        Parameters
        ----------
        dataset : MNIST; at most :data:`FEATURE_TRAIN_LIMIT` training images are used
        n_reference : images per reference set, and the sample size scores are meant for
        seed : seeds the network, its training order, the reference sets and the noise
        epochs : training epochs of the feature network
        """
        device = device or pick_device()
        generator = seeded(seed)
        net = FeatureNet().to(device)
        train, test = mnist.loaders(dataset, 32, generator, FEATURE_TRAIN_LIMIT)
        history = fit(net, torch.optim.Adam(net.parameters(), lr=2e-3), train, test,
                      epochs=epochs, device=device)
        rng = np.random.default_rng(seed)
        n = min(n_reference, dataset.n_test // 2)
        order = rng.permutation(dataset.n_test)
        real = dataset.test_images.astype(np.float32) / 255.0
        return cls(net, real[order[:n]], real[order[n : 2 * n]],
                   rng.random((n, *dataset.image_shape), dtype=np.float32), device,
                   history.epochs[-1].test_accuracy)

    @torch.no_grad()
    def _forward(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(N, 64)`` and class probabilities ``(N, 10)`` of images ``(N, 28, 28)``."""
        features, probs = [], []
        for start in range(0, len(images), 500):
            x = torch.from_numpy(np.asarray(images[start : start + 500], dtype=np.float32))
            h = self.net.features(x.unsqueeze(1).to(self.device))
            features.append(h.cpu().numpy())
            probs.append(torch.softmax(self.net.head(h), dim=1).cpu().numpy())
        return np.concatenate(features), np.concatenate(probs)

    def score(self, images: np.ndarray) -> Scores:
        """Scores of images ``(N, 28, 28)`` with values in [0, 1] (0 = background).

        Compare FIDs only between sets of the same size: the estimate grows as N shrinks.
        """
        features, probs = self._forward(images)
        shares = class_shares(probs)
        return Scores(
            fid=frechet_distance(*gaussian_stats(features), self._mu, self._cov),
            inception_score=inception_score(probs),
            coverage=int(np.sum(shares >= MIN_SHARE)),
            class_shares=tuple(float(s) for s in shares),
            pixel_std=float(np.asarray(images, dtype=np.float64).std(axis=0).mean()),
        )

    def relative_fid(self, fid: float) -> float:
        """Where ``fid`` lies between the floor (0) and the noise ceiling (1)."""
        return (fid - self.floor.fid) / (self.ceiling.fid - self.floor.fid)

    def relative_inception_score(self, score: float) -> float:
        """Where an inception score lies between noise (0) and real digits (1); the score
        of real digits depends on how sure the feature network is, so compare to it."""
        return ((score - self.ceiling.inception_score)
                / (self.floor.inception_score - self.ceiling.inception_score))
