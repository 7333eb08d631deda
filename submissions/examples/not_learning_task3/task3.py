"""Known-bad task 3: backpropagates but never applies the update (eq. 20–23 missing)."""

import numpy as np

from reference.data import load_mnist
from reference.nn import save_model
from reference.nn.builders import flatten_images
from reference.tasks.common import SEED, network

dataset = load_mnist()
model = network(100, SEED, dataset)
x, y = flatten_images(dataset.train_images), dataset.train_labels.astype(np.intp)
rng = np.random.default_rng(1)
for _epoch in range(5):
    order, losses = rng.permutation(len(x)), []
    for i in range(0, len(x), 100):
        idx = order[i : i + 100]
        losses.append(model.loss(x[idx], y[idx]))
        model.backward()  # the bug: the gradients are computed, the weights never change
    print(f"{np.mean(losses):.6f}")
save_model("params.npz", model)
