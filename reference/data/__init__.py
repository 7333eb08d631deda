"""Datasets for the reference implementation: MNIST (IDX files or an embedded subset) and
CIFAR-10 (python pickle batches, read with a restricted unpickler)."""

from .cifar10 import (
    Cifar10Dataset,
    SafeUnpickler,
    load_cifar10,
    read_cifar10_batch,
    read_cifar10_dir,
)
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
    "Cifar10Dataset",
    "DataError",
    "Dataset",
    "SafeUnpickler",
    "load_cifar10",
    "load_embedded",
    "load_mnist",
    "read_cifar10_batch",
    "read_cifar10_dir",
    "read_idx",
    "read_mnist_dir",
    "write_idx",
    "write_mnist",
]
