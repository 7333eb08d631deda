"""Task 1 (§4.2.2): read an index 0–9999, print the digit a random-weight network predicts."""

from __future__ import annotations

import sys

from reference.data import load_mnist
from reference.tasks.common import (
    HIDDEN,
    SEED,
    classify_from_stdin,
    network,
    parser,
    run_cli,
)


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--hidden", type=int, default=HIDDEN, help="hidden nodes M (default 100)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of the weights (default 0)")
    args = p.parse_args(argv)
    dataset = load_mnist(args.data_dir)
    print(classify_from_stdin(network(args.hidden, args.seed, dataset), dataset, sys.stdin))


if __name__ == "__main__":
    run_cli(main)
