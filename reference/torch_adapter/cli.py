"""What the command lines of B1–B3 share: options from a settings dataclass, data loading."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, TypeVar

from reference.data import DataError, Dataset, load_mnist

S = TypeVar("S")


def add_settings(parser: argparse.ArgumentParser, settings: Any) -> None:
    """An option ``--field-name`` per field of the dataclass instance ``settings``, typed and
    defaulted by its value; plus ``--device``."""
    for field in dataclasses.fields(settings):
        default = getattr(settings, field.name)
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(default),
                            default=default, help=f"default {default}")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")


def settings_from(args: argparse.Namespace, kind: type[S]) -> S:
    """The dataclass ``kind`` filled from the options :func:`add_settings` added."""
    return kind(**{f.name: getattr(args, f.name) for f in dataclasses.fields(kind)})


def mnist_or_exit(data_dir: str | None) -> Dataset:
    """MNIST from ``data_dir`` ($MNIST_DIR, else the embedded subset); a bad folder ends the
    program with one line on stderr."""
    try:
        return load_mnist(data_dir)
    except DataError as e:
        sys.exit(f"error: {e}")
