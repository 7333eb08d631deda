"""What a training configuration holds; every advanced-task config is one of these."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DATASETS = ("mnist", "cifar10")


class ConfigError(ValueError):
    """A configuration that does not exist or does not make sense."""


@dataclass(frozen=True)
class TrainConfig:
    """A network, its data and how to train it.

    ``layers`` are ``{"kind": ..., **constructor arguments}`` dicts for
    :func:`reference.nn.builders.build` (input sizes are inferred); ``optimizer`` is
    ``{"kind": ..., **hyper-parameters}`` for :meth:`reference.nn.Optimizer.create`;
    ``regularizer``, when set, is ``{"kind": "l1" | "l2", "lam": λ}``.
    """

    name: str
    description: str
    layers: tuple[dict[str, Any], ...]
    optimizer: dict[str, Any]
    epochs: int
    dataset: str = "mnist"
    batch_size: int = 100
    seed: int = 0
    regularizer: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ConfigError(f"config {self.name}: dataset {self.dataset!r} is not one of "
                              f"{', '.join(DATASETS)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError(f"config {self.name}: epochs and batch_size must be ≥ 1")

    @classmethod
    def from_toml(cls, path: Path) -> TrainConfig:
        """Read a config from a TOML file with the same keys (``layers`` as an array of tables)."""
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: cannot read the config ({e})") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}")
        table.setdefault("name", path.stem)
        try:
            return cls(**{**table, "layers": tuple(table.get("layers", ()))})
        except TypeError as e:
            raise ConfigError(f"{path}: {e}") from None
