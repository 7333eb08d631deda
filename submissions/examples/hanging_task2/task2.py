"""Known-bad task 2: a minibatch loop whose counter never advances."""

import numpy as np

from reference.data import load_mnist

dataset = load_mnist()
rng = np.random.default_rng(0)
batch, taken = [], 0
while len(batch) < 100:
    i = int(rng.integers(dataset.n_train))
    if i not in batch and taken > 0:  # the bug: `taken` is never incremented
        batch.append(i)
print(len(batch))
