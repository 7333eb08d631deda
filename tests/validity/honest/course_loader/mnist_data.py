"""Reading MNIST with python-mnist, as the course text's sample1.py does (§4.1)."""

import os

import matplotlib.pyplot as plt
import numpy as np
from mnist import MNIST
from pylab import cm

mndata = MNIST(os.environ.get("MNIST_DIR", "."))


def show(image, path):
    """Save one image as the course's practice exercise shows it."""
    plt.imshow(image.reshape(28, 28), cmap=cm.gray)
    plt.savefig(path)


def load_training():
    X, Y = mndata.load_training()
    X = np.array(X)
    X = X.reshape((X.shape[0], 28, 28))
    Y = np.array(Y)
    return X.reshape(len(X), -1) / 255.0, Y.astype(int)


def load_testing():
    X, _ = mndata.load_testing()
    X = np.array(X)
    return X.reshape(len(X), -1) / 255.0
