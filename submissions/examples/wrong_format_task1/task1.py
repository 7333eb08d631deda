"""Known-bad task 1: decorates its answer, so stdout is not a bare digit."""

import sys

from reference.data import load_mnist
from reference.tasks.common import SEED, classify_from_stdin, network

dataset = load_mnist()
digit = classify_from_stdin(network(100, SEED, dataset), dataset, sys.stdin)
print(f"予測: {digit}")  # the bug: only the digit may go to stdout
