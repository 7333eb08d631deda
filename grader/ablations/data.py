"""The data of a regime, written once as the four MNIST IDX files both trainers read.

A regime takes the first ``train_size`` training images (as "Deep Learning from Scratch"
does for its over-fitting experiments) and the first ``test_size`` test images, labels
included: ablations teach, they grade nothing, so no answer is held back. The folder is
named by a digest of its content, which also enters every run's cache key.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.ablations.sweep import Regime, SweepError
from reference.data import Dataset, write_mnist


@dataclass(frozen=True)
class RegimeData:
    """Where a regime's IDX files are and what they hold."""

    directory: Path
    digest: str
    source: str
    n_train: int
    n_test: int
    n_features: int

    def describe(self) -> dict[str, object]:
        return {"source": self.source, "sha256": self.digest, "n_train": self.n_train,
                "n_test": self.n_test}


def _first(n: int | None, available: int, what: str, regime: Regime) -> int:
    if n is None:
        return available
    if n > available:
        raise SweepError(f"{regime.path}: [regime].{what} = {n}, but the data has only "
                         f"{available} images")
    return n


def subset(dataset: Dataset, regime: Regime) -> Dataset:
    """The first ``train_size`` / ``test_size`` images of each split (all when unset)."""
    n_train = _first(regime.train_size, dataset.n_train, "train_size", regime)
    n_test = _first(regime.test_size, dataset.n_test, "test_size", regime)
    return Dataset(
        train_images=dataset.train_images[:n_train], train_labels=dataset.train_labels[:n_train],
        test_images=dataset.test_images[:n_test], test_labels=dataset.test_labels[:n_test],
        source=f"{dataset.source}: first {n_train} train / {n_test} test images",
    )


def digest(dataset: Dataset) -> str:
    """sha256 over the four arrays' shapes and bytes."""
    h = hashlib.sha256()
    for array in (dataset.train_images, dataset.train_labels, dataset.test_images,
                  dataset.test_labels):
        h.update(str(array.shape).encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def prepare(dataset: Dataset, regime: Regime, root: Path) -> RegimeData:
    """Write the regime's IDX files under ``root/<digest>`` unless they are there already."""
    part = subset(dataset, regime)
    sha = digest(part)
    directory = root / sha[:16]
    if not directory.is_dir():
        # Written aside and renamed, so an interrupted run never leaves half a data set.
        staging = root / f".{sha[:16]}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        write_mnist(staging, part)
        try:
            staging.rename(directory)
        except OSError:  # written meanwhile by another process: theirs is the same
            shutil.rmtree(staging, ignore_errors=True)
    return RegimeData(directory=directory, digest=sha, source=part.source,
                      n_train=part.n_train, n_test=part.n_test,
                      n_features=int(np.prod(part.image_shape)))
