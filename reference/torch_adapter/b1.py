"""B1 (§6.4): MNIST with a CNN — (1) a configuration that over-fits on purpose and
(2) the best one, each with the four curves the course asks for.

    python -m reference.torch_adapter.b1 [--config overfit|best] --out DIR

Without ``--config`` both run. Per configuration ``<name>`` the folder gets
``<name>_metrics.csv`` (epoch, train/test loss and accuracy, seconds),
``<name>_curves.png``, ``<name>_model.txt``, ``<name>_checkpoint.pt`` and ``<name>.pt``
(the model's state dict); ``report.md`` covers every configuration found in the folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from reference.data import Dataset
from reference.torch_adapter import mnist, models, report
from reference.torch_adapter.artifacts import read_metrics
from reference.torch_adapter.cli import mnist_or_exit
from reference.torch_adapter.plots import learning_curves
from reference.torch_adapter.runtime import pick_device, seeded
from reference.torch_adapter.trainer import train_run


@dataclass(frozen=True)
class Config:
    """One B1 training configuration.

    ``train_limit`` trains on that many images only; ``max_shift`` > 0 augments each batch
    by random translations; ``one_cycle`` raises the learning rate to ``lr`` and anneals it
    (OneCycle), otherwise ``lr`` is constant.
    """

    name: str
    build: Callable[[], torch.nn.Module]
    epochs: int
    batch_size: int
    lr: float
    title: str
    train_limit: int | None = None
    max_shift: int = 0
    one_cycle: bool = False


CONFIGS = {
    "overfit": Config(
        "overfit", models.b1_overfit, epochs=40, batch_size=32, lr=1e-3, train_limit=500,
        title="B1-(1) わざと過学習: 500 枚で学習した大きな全結合ネット (over-fitting on purpose)"),
    "best": Config(
        "best", models.b1_cnn, epochs=12, batch_size=64, lr=3e-3, max_shift=2,
        one_cycle=True,
        title="B1-(2) 認識器の構築: CNN + BN + dropout + 平行移動の拡張 (best effort)"),
}


def run(config: Config, dataset: Dataset, out: Path, *, seed: int = 0,
        device: torch.device | None = None) -> Path:
    """Train ``config`` on ``dataset``, write its files and curves to ``out``.

    Returns the path of the metrics CSV.
    """
    device = device or pick_device()
    generator = seeded(seed)
    model = config.build().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train, test = mnist.loaders(dataset, config.batch_size, generator, config.train_limit)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * len(train)) \
        if config.one_cycle else None
    transform = partial(mnist.random_shift, max_shift=config.max_shift, generator=generator) \
        if config.max_shift else None
    train_run(config.name, model, optimizer, (train, test), epochs=config.epochs,
              device=device, out=out, transform=transform, scheduler=scheduler)
    metrics = out / f"{config.name}_metrics.csv"
    learning_curves(read_metrics(metrics), out / f"{config.name}_curves.png", config.title)
    return metrics


def write_report(out: Path, source: str) -> Path:
    """``out/report.md`` over every configuration whose metrics CSV is in ``out``."""
    sections = [("データ (data)", source)]
    sections += [(config.title, report.classifier_section(out, name, config.title))
                 for name, config in CONFIGS.items() if (out / f"{name}_metrics.csv").is_file()]
    return report.write(out / "report.md", "発展課題 B1: MNIST 手書き数字認識 (PyTorch)", sections)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m reference.torch_adapter.b1",
                                description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=sorted(CONFIGS), help="one configuration (default: both)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--epochs", type=int, help="override the configuration's epochs")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--data-dir", help="MNIST IDX folder (default: $MNIST_DIR, else embedded)")
    args = p.parse_args(argv)
    dataset = mnist_or_exit(args.data_dir)
    device = pick_device(args.device)
    print(f"data: {dataset!r}; device: {device}", file=sys.stderr)
    for name in [args.config] if args.config else list(CONFIGS):
        config = CONFIGS[name]
        if args.epochs is not None:
            config = dataclasses.replace(config, epochs=args.epochs)
        run(config, dataset, args.out, seed=args.seed, device=device)
    print(f"report: {write_report(args.out, dataset.source)}", file=sys.stderr)


if __name__ == "__main__":
    main()
