"""The data the grader hands to student programs, and the answers it keeps to itself.

Programs get the training set as it is and a test set of ``TEST_SIZE`` images drawn
from the real test images in a seeded shuffled order, with every label replaced by 0.
The true labels of that shuffled set stay in the grader process.

Two things make memorised answers fail (issue 15, 4a and 4c):

- every handed test image is **perturbed** per seed — moved by a random sub-pixel
  shift (at most ``SHIFT_PX`` per axis, bilinear) and given Gaussian noise
  (``NOISE_SD`` grey levels) — so a table keyed on the public images' bytes, on
  rounded pixels or on a thresholded image finds (almost) nothing, while a network's
  accuracy moves by under half a point (measured in docs/memorisation.en.md);
- a few images are **planted twice** (``DUPLICATE_PAIRS`` pairs of identical images at
  seeded indices): a program that classifies the image of the index it was given
  answers the same for both, one that reads index i−1 or i+1 (almost) never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference.data import Dataset, write_mnist

# Task 1 reads indices 0–9999 (§4.2.2): the handed test set always has that many images.
TEST_SIZE = 10_000
SHIFT_PX = 0.25  # largest sub-pixel shift per axis: 0.5 px already costs a network ~1 point
NOISE_SD = 8.0  # grey levels; invisible to a network, flips rounded and thresholded pixels
DUPLICATE_PAIRS = 4
# Sources and copies are drawn from the indices whose neighbours carry the least and the
# most ink: neighbours that differ most make an off-by-one reader answer differently.
_INK_CANDIDATES = 0.05


@dataclass(frozen=True)
class Handout:
    """The handed-over test set's true labels, and where its files are.

    ``origin[i]`` is the index in the real test set that handed image ``i`` was made
    from; ``duplicates`` lists the planted (source, copy) index pairs, whose images are
    identical byte for byte.
    """

    directory: Path
    test_labels: np.ndarray
    test_images: np.ndarray
    origin: np.ndarray
    duplicates: tuple[tuple[int, int], ...] = ()

    @property
    def n_test(self) -> int:
        return len(self.test_labels)


def shuffled_test_order(n_real: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices into the real test set: whole permutations concatenated until ``size``.

    With the full 10,000-image MNIST test set this is one permutation; with the
    1,000-image embedded split each image appears ten times, at unrelated places.

    Returns
    -------
    order : ndarray, shape (size,), int
    """
    rounds = -(-size // n_real)
    return np.concatenate([rng.permutation(n_real) for _ in range(rounds)])[:size]


def _neighbour(x: np.ndarray, step: int, axis: int) -> np.ndarray:
    """``x`` moved by one pixel along ``axis``: result[…, y, …] = x[…, y − step, …], 0 outside.

    x : ndarray, shape (N, H, W)
    """
    moved = np.roll(x, step, axis=axis)
    edge = [slice(None)] * x.ndim
    edge[axis] = slice(0, 1) if step > 0 else slice(-1, None)
    moved[tuple(edge)] = 0
    return moved


def _shift_axis(x: np.ndarray, d: np.ndarray, axis: int) -> np.ndarray:
    """Each image moved by its own ``d`` (|d| ≤ 1) pixels along ``axis``, linearly interpolated.

    x : ndarray, shape (N, H, W), float;  d : ndarray, shape (N,)
    """
    w = np.abs(d)[:, None, None].astype(x.dtype)
    toward = np.where((d > 0)[:, None, None], _neighbour(x, 1, axis), _neighbour(x, -1, axis))
    return (1 - w) * x + w * toward


def perturb(images: np.ndarray, rng: np.random.Generator, shift_px: float = SHIFT_PX,
            noise_sd: float = NOISE_SD) -> np.ndarray:
    """A sub-pixel shift (bilinear, uniform in ±``shift_px`` per axis) and Gaussian noise.

    images : ndarray, shape (N, H, W), uint8  →  ndarray, shape (N, H, W), uint8
    """
    n = len(images)
    x = images.astype(np.float32)
    x = _shift_axis(x, rng.uniform(-shift_px, shift_px, n), axis=1)
    x = _shift_axis(x, rng.uniform(-shift_px, shift_px, n), axis=2)
    x += rng.normal(0.0, noise_sd, x.shape).astype(np.float32)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _by_neighbour_ink(images: np.ndarray,
                      rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Indices 2 … N−3 whose two neighbours carry the least ink, and the most; shuffled."""
    ink = images.reshape(len(images), -1).sum(axis=1, dtype=np.int64)
    inner = np.arange(2, len(images) - 2)
    around = ink[inner - 1] + ink[inner + 1]
    k = max(1, int(_INK_CANDIDATES * len(inner)))
    ranked = inner[np.argsort(around, kind="stable")]
    return rng.permutation(ranked[:k]).tolist(), rng.permutation(ranked[-k:]).tolist()


def choose_duplicates(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                      pairs: int = DUPLICATE_PAIRS) -> tuple[tuple[int, int], ...]:
    """(source, copy) index pairs to plant, with unlike neighbours.

    The neighbours of a source are faint images, those of its copy bold ones, of other
    digits (``labels[s ± 1] != labels[c ± 1]``), and no two chosen indices are within
    two of each other, so a program that reads index i ± 1 sees different images.

    images : ndarray, shape (N, H, W);  labels : ndarray, shape (N,)
    """
    faint, bold = _by_neighbour_ink(images, rng)
    used: list[int] = []
    chosen: list[tuple[int, int]] = []

    def free(i: int) -> bool:
        return all(abs(i - u) > 2 for u in used)

    for source in faint:
        if len(chosen) == pairs:
            break
        if not free(source):
            continue
        copy = next((c for c in bold if free(c) and abs(c - source) > 2
                     and labels[c - 1] != labels[source - 1]
                     and labels[c + 1] != labels[source + 1]), None)
        if copy is not None:
            chosen.append((int(source), int(copy)))
            used += [source, copy]
    return tuple(chosen)


def prepare(dataset: Dataset, directory: Path, seed: int) -> Handout:
    """Write the handout files into ``directory`` and return the labels kept back."""
    origin = shuffled_test_order(dataset.n_test, TEST_SIZE, np.random.default_rng(seed))
    images = perturb(dataset.test_images[origin], np.random.default_rng([seed, 1]))
    labels = dataset.test_labels[origin]
    duplicates = choose_duplicates(images, labels, np.random.default_rng([seed, 2]))
    for source, copy in duplicates:
        images[copy], labels[copy], origin[copy] = images[source], labels[source], origin[source]
    handed = Dataset(
        train_images=dataset.train_images,
        train_labels=dataset.train_labels,
        test_images=images,
        test_labels=np.zeros(TEST_SIZE, dtype=np.uint8),
        source="le4nn-grader handout",
    )
    write_mnist(directory, handed)
    return Handout(directory=directory, test_labels=labels, test_images=images,
                   origin=origin, duplicates=duplicates)
