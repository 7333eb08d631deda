"""MNIST の IDX ファイルを $MNIST_DIR から読む(gzip でも可)。"""
import gzip
import os

import numpy as np


def _read(name):
    path = os.path.join(os.environ.get("MNIST_DIR", "."), name)
    opener = open
    if not os.path.exists(path):
        path, opener = path + ".gz", gzip.open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_mnist():
    x_train = _read("train-images-idx3-ubyte").reshape(-1, 784) / 255.0
    t_train = _read("train-labels-idx1-ubyte").astype(np.int64)
    x_test = _read("t10k-images-idx3-ubyte").reshape(-1, 784) / 255.0
    return (x_train, t_train), x_test
