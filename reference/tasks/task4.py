"""Task 4 (§4.3.6): like task 1, but with the parameters task 3 saved."""

from __future__ import annotations

import sys

from reference.data import load_mnist
from reference.nn import load_model
from reference.tasks.common import PARAMS_FILE, classify_from_stdin, parser, run_cli


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--params", default=PARAMS_FILE,
                   help=f"parameter file written by task 3 (default {PARAMS_FILE})")
    args = p.parse_args(argv)
    model = load_model(args.params)
    print(classify_from_stdin(model, load_mnist(args.data_dir), sys.stdin))


if __name__ == "__main__":
    run_cli(main)
