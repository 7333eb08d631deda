"""B2 (§6.5): smile / non-smile classification of face images streamed from a folder.

    python -m reference.torch_adapter.faces --out faces        # a procedural face folder
    python -m reference.torch_adapter.b2 --data faces --out DIR

``--data`` holds ``train/<class>/`` and ``test/<class>/`` (the course's
``face/train/smile`` …); images of any size are resized to ``--size``. Writes
``b2_metrics.csv``, ``b2_curves.png``, ``b2_model.txt``, ``b2_checkpoint.pt``, ``b2.pt``
and ``report.md`` to ``DIR``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from reference.data import DataError
from reference.torch_adapter import models, report
from reference.torch_adapter.artifacts import read_metrics
from reference.torch_adapter.cli import add_settings, settings_from
from reference.torch_adapter.imagefolder import folder_loaders
from reference.torch_adapter.plots import learning_curves
from reference.torch_adapter.runtime import pick_device, seeded
from reference.torch_adapter.trainer import train_run

NAME = "b2"
TITLE = "B2 顔画像認識: 笑顔 / 笑顔でない (smile / non-smile)"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Training settings; ``size`` is the side images are resized to."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 3e-3
    size: int = 64
    seed: int = 0


def run(data: Path, out: Path, settings: Settings, device: torch.device | None = None) -> Path:
    """Train the smile classifier on ``data/train``, test on ``data/test``; write the run's
    files, curves and report to ``out``. Returns the path of the report."""
    device = device or pick_device()
    generator = seeded(settings.seed)
    loaders = folder_loaders(data, (settings.size, settings.size), settings.batch_size,
                             generator)
    model = models.b2_cnn().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    train_run(NAME, model, optimizer, loaders, epochs=settings.epochs, device=device, out=out)
    learning_curves(read_metrics(out / f"{NAME}_metrics.csv"), out / f"{NAME}_curves.png", TITLE)
    classes = ", ".join(f"{i} = {name}" for i, name in enumerate(loaders[0].dataset.classes))
    setup = (f"{data} ({len(loaders[0].dataset)} train / {len(loaders[1].dataset)} test; "
             f"classes {classes}); " + ", ".join(
                 f"{k} = {v}" for k, v in dataclasses.asdict(settings).items()))
    return report.write(out / "report.md", "発展課題 B2: 顔画像認識 (PyTorch)", [
        ("データと設定 (data and settings)", setup),
        (TITLE, report.classifier_section(out, NAME, TITLE))])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m reference.torch_adapter.b2",
                                description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="folder with train/ and test/")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    add_settings(p, Settings())
    args = p.parse_args(argv)
    try:
        path = run(args.data, args.out, settings_from(args, Settings), pick_device(args.device))
    except DataError as e:
        sys.exit(f"error: {e}")
    print(f"report: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
