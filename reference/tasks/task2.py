"""Task 2 (§4.3.3): print the mean cross-entropy (eq. 8) of a random training minibatch."""

from __future__ import annotations

import numpy as np

from reference.data import load_mnist
from reference.nn.builders import flatten_images
from reference.tasks.common import HIDDEN, SEED, network, parser, run_cli


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--batch-size", type=int, default=100, help="minibatch size B (default 100)")
    p.add_argument("--hidden", type=int, default=HIDDEN, help="hidden nodes M (default 100)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of weights and batch (default 0)")
    args = p.parse_args(argv)
    dataset = load_mnist(args.data_dir)
    model = network(args.hidden, args.seed, dataset)
    # Without replacement: a minibatch is B distinct images (§4.3.2).
    batch = np.random.default_rng(args.seed + 1).choice(dataset.n_train, args.batch_size,
                                                        replace=False)
    x = flatten_images(dataset.train_images[batch], np.float64)
    print(f"{model.loss(x, dataset.train_labels[batch].astype(np.intp)):.6f}")


if __name__ == "__main__":
    run_cli(main)
