"""The files a run leaves behind: a metrics CSV (one row per epoch) and state-dict files.

State dicts, never pickled modules: they load with ``torch.load(..., weights_only=True)``,
which cannot run code, and with ``map_location`` on any device.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import torch


class MetricsCsv:
    """Writes one row per epoch and flushes it, so a run stopped early keeps its history.

    Parameters
    ----------
    path : path of the CSV file (UTF-8, header row first)
    fields : column names; every row must give exactly these
    """

    def __init__(self, path: str | os.PathLike[str], fields: Sequence[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.DictWriter(self._file, fieldnames=list(fields))
        self._writer.writeheader()

    def write(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow(row)
        self._file.flush()

    def __enter__(self) -> MetricsCsv:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._file.close()


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, float]]:
    """The rows of a metrics CSV with every value as a float (``epoch`` too)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def save_state(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Save a state dict, or a dict of state dicts and numbers (a checkpoint), to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state), path)
    return path


def load_state(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> dict:
    """Load what :func:`save_state` wrote, tensors placed on ``device``, no code run."""
    return torch.load(path, map_location=device, weights_only=True)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
