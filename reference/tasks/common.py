"""What the four task programs share: the network, stdin handling, error reporting."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO

import numpy as np

from reference.data import DataError, Dataset
from reference.nn import ModelFileError, Sequential
from reference.nn.builders import flatten_images, mlp

HIDDEN = 100
SEED = 0
PARAMS_FILE = "task3_params.npz"


class InputError(ValueError):
    """The user typed something that is not a valid image index."""


def network(hidden: int, seed: int, dataset: Dataset) -> Sequential:
    """The 3-layer network of §4.2.1 with N(0, 1/N) weights from a fixed seed (§4.2.2)."""
    d = int(np.prod(dataset.image_shape))
    return mlp([d, hidden, dataset.n_classes], np.random.default_rng(seed))


def read_index(stream: TextIO, n_images: int) -> int:
    """Read one integer 0 ≤ i < ``n_images`` from ``stream``; anything else is an InputError."""
    if stream.isatty():
        print(f"0〜{n_images - 1} の整数を入力してください: ", end="", file=sys.stderr, flush=True)
    text = stream.readline().strip()
    if not text:
        raise InputError(f"no input: type an image index between 0 and {n_images - 1}")
    try:
        index = int(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not an integer: type an index between 0 and "
                         f"{n_images - 1}") from None
    if not 0 <= index < n_images:
        raise InputError(f"index {index} is out of range: the test set has {n_images} images "
                         f"(0 to {n_images - 1})")
    return index


def classify_from_stdin(model: Sequential, dataset: Dataset, stream: TextIO) -> int:
    """Read an index, run the network on that test image, return the digit (tasks 1, 4)."""
    index = read_index(stream, dataset.n_test)
    image = flatten_images(dataset.test_images[index : index + 1], model_dtype(model))
    return int(model.predict(image)[0])


def model_dtype(model: Sequential) -> type:
    first = next(model.named_params(), None)
    return first[1].dtype.type if first is not None else np.float64


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every task has."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data-dir", help="directory of the MNIST IDX files (default: $MNIST_DIR, "
                   "else the embedded 5,000-image subset)")
    return p


def run_cli(main: Callable[[list[str] | None], None], argv: list[str] | None = None,
            errors: tuple[type[Exception], ...] = ()) -> None:
    """Run a task's ``main``; expected failures become one line on stderr and exit code 2.

    ``errors`` adds a program's own expected failures (e.g. a bad training config).
    """
    try:
        main(argv)
    except (InputError, DataError, ModelFileError, *errors) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
