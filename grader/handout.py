"""The data the grader hands to student programs, and the answers it keeps to itself.

Programs get the training set as it is and a test set of ``TEST_SIZE`` images drawn
from the real test images in a seeded shuffled order, with every label replaced by 0.
The true labels of that shuffled set stay in the grader process, so answers can be
neither looked up nor memorised from the public files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference.data import Dataset, write_mnist

# Task 1 reads indices 0–9999 (§4.2.2): the handed test set always has that many images.
TEST_SIZE = 10_000


@dataclass(frozen=True)
class Handout:
    """The handed-over test set's true labels, and where its files are."""

    directory: Path
    test_labels: np.ndarray
    test_images: np.ndarray

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


def prepare(dataset: Dataset, directory: Path, seed: int) -> Handout:
    """Write the handout files into ``directory`` and return the labels kept back."""
    order = shuffled_test_order(dataset.n_test, TEST_SIZE, np.random.default_rng(seed))
    images = dataset.test_images[order]
    handed = Dataset(
        train_images=dataset.train_images,
        train_labels=dataset.train_labels,
        test_images=images,
        test_labels=np.zeros(TEST_SIZE, dtype=np.uint8),
        source="le4nn-grader handout",
    )
    write_mnist(directory, handed)
    return Handout(directory=directory, test_labels=dataset.test_labels[order],
                   test_images=images)
