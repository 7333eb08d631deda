"""Known-bad task 4: reads the index, then classifies image 0 whatever it was."""

import sys

from reference.data import load_mnist
from reference.nn import load_model
from reference.nn.builders import flatten_images
from reference.tasks.common import PARAMS_FILE, read_index

dataset = load_mnist()
index = read_index(sys.stdin, dataset.n_test)
model = load_model(PARAMS_FILE)
print(int(model.predict(flatten_images(dataset.test_images[:1]))[0]))  # the bug: [:1]
