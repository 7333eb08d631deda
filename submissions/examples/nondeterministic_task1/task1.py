"""Known-bad task 1: the weights come from an unseeded generator, so runs disagree."""

import sys

import numpy as np

from reference.data import load_mnist
from reference.nn.builders import flatten_images, mlp
from reference.tasks.common import read_index

dataset = load_mnist()
index = read_index(sys.stdin, dataset.n_test)
model = mlp([784, 100, 10], np.random.default_rng())  # the bug: no seed
print(int(model.predict(flatten_images(dataset.test_images[index : index + 1]))[0]))
