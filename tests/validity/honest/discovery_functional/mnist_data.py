"""Reading MNIST from the IDX files in $MNIST_DIR (raw or gzip), as the course describes."""

import gzip
import os

import numpy as np


def read_idx(name):
    folder = os.environ.get("MNIST_DIR", ".")
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        path += ".gz"
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_training():
    x = read_idx("train-images-idx3-ubyte")
    y = read_idx("train-labels-idx1-ubyte")
    return x.reshape(len(x), -1) / 255.0, y.astype(int)


def load_testing():
    x = read_idx("t10k-images-idx3-ubyte")
    return x.reshape(len(x), -1) / 255.0
