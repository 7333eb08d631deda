"""Train the reference solutions of B1–B3 and save them as a framework submission.

    python -m reference.torch_adapter.export --out submissions/framework_reference [--runs DIR]

Trains B1's best configuration, B2 on a procedural face folder and B3, then copies the
state dicts to ``b1_weights.pt``, ``b2_weights.pt`` and ``b3_generator.pt`` in ``--out``,
beside the submission's modules (which build the same models). The training runs, with
their curves and reports, stay in ``--runs`` (default: a temporary folder).
``--quick`` trains tiny versions on a few hundred images for a few steps: files of the
right format for tests, not models that reach the plan's thresholds.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

import torch

from reference.data import Dataset
from reference.torch_adapter import b1, b2, b3, faces
from reference.torch_adapter.cli import mnist_or_exit
from reference.torch_adapter.runtime import pick_device

QUICK_IMAGES = 640  # ten B3 steps of B/2 = 64 real images; one short B1 epoch


def _subset(dataset: Dataset, n: int) -> Dataset:
    """The first ``n`` training images (the embedded split is already shuffled)."""
    return dataclasses.replace(dataset, train_images=dataset.train_images[:n],
                               train_labels=dataset.train_labels[:n])


def export(out: Path, runs: Path, dataset: Dataset, *, quick: bool = False,
           device: torch.device | None = None) -> dict[str, Path]:
    """Train B1–B3 into ``runs`` and copy their weights into ``out``.

    Returns
    -------
    dict
        Weights file name → the path written.
    """
    device = device or pick_device()
    if quick:
        dataset = _subset(dataset, QUICK_IMAGES)
    b1_config = b1.CONFIGS["best"]
    b2_settings, b3_settings = b2.Settings(), b3.Settings()
    per_class = {"train": 400, "test": 100}
    if quick:
        b1_config = dataclasses.replace(b1_config, epochs=1)
        b2_settings = dataclasses.replace(b2_settings, epochs=1)
        b3_settings = dataclasses.replace(b3_settings, epochs=1, samples=100, feature_epochs=1)
        per_class = {"train": 16, "test": 8}
    b1.run(b1_config, dataset, runs / "b1", device=device)
    faces.write_folder(runs / "faces", per_class, size=b2_settings.size)
    b2.run(runs / "faces", runs / "b2", b2_settings, device)
    b3.train(dataset, runs / "b3", b3_settings, device)
    out.mkdir(parents=True, exist_ok=True)
    copies = {"b1_weights.pt": runs / "b1" / f"{b1_config.name}.pt",
              "b2_weights.pt": runs / "b2" / f"{b2.NAME}.pt",
              "b3_generator.pt": runs / "b3" / "generator.pt"}
    return {name: Path(shutil.copyfile(source, out / name)) for name, source in copies.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m reference.torch_adapter.export",
                                description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="the submission folder")
    p.add_argument("--runs", type=Path, help="keep the training runs here")
    p.add_argument("--quick", action="store_true", help="tiny training, for tests")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--data-dir", help="MNIST IDX folder (default: $MNIST_DIR, else embedded)")
    args = p.parse_args(argv)
    dataset = mnist_or_exit(args.data_dir)
    with tempfile.TemporaryDirectory(prefix="le4nn-export-") as tmp:
        written = export(args.out, args.runs or Path(tmp), dataset, quick=args.quick,
                         device=pick_device(args.device))
    for path in written.values():
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
