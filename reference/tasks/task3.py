"""Task 3 (§4.3.5): train the 3-layer network by backpropagation, print one loss per epoch.

Each epoch's mean cross-entropy goes to stdout on its own line; progress and the final
test accuracy go to stderr. The parameters are saved with ``np.savez``.
"""

from __future__ import annotations

import sys

import numpy as np

from reference.data import load_mnist
from reference.nn import SGD, EpochRecord, save_model, train
from reference.nn.builders import flatten_images
from reference.tasks.common import HIDDEN, PARAMS_FILE, SEED, network, parser, run_cli


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--epochs", type=int, default=30, help="number of epochs (default 30)")
    p.add_argument("--batch-size", type=int, default=100, help="minibatch size B (default 100)")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate η (default 0.5)")
    p.add_argument("--hidden", type=int, default=HIDDEN, help="hidden nodes M (default 100)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of weights and order (default 0)")
    p.add_argument("--out", default=PARAMS_FILE, help=f"parameter file (default {PARAMS_FILE})")
    args = p.parse_args(argv)

    dataset = load_mnist(args.data_dir)
    model = network(args.hidden, args.seed, dataset).astype(np.float32)
    x, y = flatten_images(dataset.train_images), dataset.train_labels.astype(np.intp)
    test = flatten_images(dataset.test_images), dataset.test_labels.astype(np.intp)

    def report(r: EpochRecord) -> None:
        print(f"{r.train_loss:.6f}", flush=True)
        print(f"epoch {r.epoch}/{args.epochs}: loss {r.train_loss:.4f}, "
              f"test accuracy {r.test_accuracy:.4f}", file=sys.stderr)

    train(model, SGD(args.lr), x, y, epochs=args.epochs, batch_size=args.batch_size,
          rng=np.random.default_rng(args.seed + 1), test=test, on_epoch=report)
    path = save_model(args.out, model)
    print(f"saved parameters to {path}", file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
