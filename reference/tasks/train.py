"""Train a network of the advanced tasks A1–A7 from a named configuration.

    python -m reference.tasks.train --config a6_cnn [--epochs N] [--seed S] [--out DIR]

Writes ``<out>/<run>.npz`` (parameters and architecture, :func:`reference.nn.save_model`)
and ``<out>/<run>_metrics.csv`` (one row per epoch: epoch, train_loss, train_accuracy,
test_loss, test_accuracy, seconds); progress goes to stderr. Training runs in float32.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from pathlib import Path

import numpy as np

from reference.data import Dataset, load_cifar10, load_mnist
from reference.nn import (
    EpochRecord,
    Optimizer,
    Regularizer,
    Sequential,
    save_model,
    train,
)
from reference.nn.builders import build, images_to_tensor
from reference.tasks.common import run_cli
from reference.tasks.configs import ConfigError, TrainConfig, load_config, names

METRICS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds")
LOADERS = {"mnist": load_mnist, "cifar10": load_cifar10}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reference.tasks.train",
                                description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True,
                   help=f"a built-in config ({', '.join(names())}) or a .toml file")
    p.add_argument("--epochs", type=int, help="number of epochs (default: the config's)")
    p.add_argument("--seed", type=int, help="seed of weights, order and dropout masks "
                   "(default: the config's)")
    p.add_argument("--out", default="out", help="output directory (default: out)")
    p.add_argument("--data-dir", help="MNIST or CIFAR-10 directory (default: $MNIST_DIR, "
                   "else the embedded subset; $CIFAR10_DIR for CIFAR-10)")
    p.add_argument("--optimizer", choices=sorted(Optimizer.registry),
                   help="replace the config's optimizer by this one with the course's defaults")
    decay = p.add_mutually_exclusive_group()
    decay.add_argument("--l1", type=float, metavar="λ", help="L1 weight decay of strength λ")
    decay.add_argument("--l2", type=float, metavar="λ", help="L2 weight decay of strength λ")
    return p


def apply_options(config: TrainConfig, args: argparse.Namespace) -> TrainConfig:
    """The config with the command line's overrides; ``name`` says what was changed."""
    changes: dict = {}
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.optimizer is not None:
        changes["optimizer"] = {"kind": args.optimizer}
        changes["name"] = f"{config.name}-{args.optimizer}"
    for kind in ("l1", "l2"):
        lam = getattr(args, kind)
        if lam is not None:
            changes["regularizer"] = {"kind": kind, "lam": lam}
            changes["name"] = f"{changes.get('name', config.name)}-{kind}_{lam:g}"
    return dataclasses.replace(config, **changes)


def load_data(config: TrainConfig, data_dir: str | None) -> Dataset:
    return LOADERS[config.dataset](data_dir)


def run(config: TrainConfig, dataset: Dataset, out: Path) -> tuple[Sequential, Path, Path]:
    """Train ``config`` on ``dataset``; write the parameter file and the metrics CSV to ``out``.

    Returns the trained model and the two paths.
    """
    x, labels = images_to_tensor(dataset.train_images), dataset.train_labels.astype(np.intp)
    test = images_to_tensor(dataset.test_images), dataset.test_labels.astype(np.intp)
    rng = np.random.default_rng(config.seed)
    try:
        model = build(config.layers, x.shape[1:], rng).astype(np.float32)
        optimizer = Optimizer.create(**config.optimizer)
        regularizer = Regularizer.create(**config.regularizer) if config.regularizer else None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"config {config.name}: {e}") from None
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / f"{config.name}_metrics.csv"
    print(f"{config.name}: {config.description.strip().splitlines()[0]}", file=sys.stderr)
    print(f"data: {dataset!r}", file=sys.stderr)
    with open(metrics_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=METRICS)
        writer.writeheader()

        def record(r: EpochRecord) -> None:
            writer.writerow(dataclasses.asdict(r))
            f.flush()
            print(f"epoch {r.epoch}/{config.epochs}: train loss {r.train_loss:.4f} "
                  f"acc {r.train_accuracy:.4f}, test loss {r.test_loss:.4f} "
                  f"acc {r.test_accuracy:.4f} ({r.seconds:.1f} s)", file=sys.stderr, flush=True)

        train(model, optimizer, x, labels, epochs=config.epochs, batch_size=config.batch_size,
              rng=rng, test=test, on_epoch=record, regularizer=regularizer)
    params_path = save_model(out / f"{config.name}.npz", model)
    print(f"saved parameters to {params_path} and metrics to {metrics_path}", file=sys.stderr)
    return model, params_path, metrics_path


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    config = apply_options(load_config(args.config), args)
    run(config, load_data(config, args.data_dir), Path(args.out))


def cli(argv: list[str] | None = None) -> None:
    """:func:`main`, with expected failures as one line on stderr and exit status 2."""
    run_cli(main, argv, (ConfigError,))


if __name__ == "__main__":
    cli()
