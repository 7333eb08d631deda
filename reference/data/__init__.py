"""Datasets for the reference implementation: MNIST (IDX files or an embedded subset)."""

from .errors import DataError
from .idx import read_idx, write_idx
from .mnist import (
    EMBEDDED_SPLIT_SEED,
    FILES,
    Dataset,
    load_embedded,
    load_mnist,
    read_mnist_dir,
    write_mnist,
)

__all__ = [
    "EMBEDDED_SPLIT_SEED",
    "FILES",
    "DataError",
    "Dataset",
    "load_embedded",
    "load_mnist",
    "read_idx",
    "read_mnist_dir",
    "write_idx",
    "write_mnist",
]
