"""Training configurations for the advanced tasks A1–A7: one module per config, each
defining ``CONFIG``; ``load_config`` also reads a TOML file with the same keys."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from reference.tasks.configs.schema import ConfigError, TrainConfig

_HELPERS = {"schema", "layers"}


def names() -> list[str]:
    """The names of the built-in configs (``a1_relu`` …)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _HELPERS)


def load_config(name_or_path: str) -> TrainConfig:
    """A built-in config by name, or a config from a ``.toml`` file."""
    if name_or_path.endswith(".toml"):
        return TrainConfig.from_toml(Path(name_or_path))
    if name_or_path not in names():
        raise ConfigError(f"no config named {name_or_path!r} (known: {', '.join(names())}; "
                          "or give a .toml file)")
    return importlib.import_module(f"{__name__}.{name_or_path}").CONFIG


__all__ = ["ConfigError", "TrainConfig", "load_config", "names"]
