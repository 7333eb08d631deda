"""課題4: 課題3で学習したパラメータを読み込み、テスト画像を識別する。"""

import numpy as np
from mnist_data import load_testing


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def softmax(a):
    alpha = np.max(a, axis=1, keepdims=True)
    e = np.exp(a - alpha)
    return e / np.sum(e, axis=1, keepdims=True)


def affine(x, W, b):
    return x @ W.T + b


params = np.load("params.npz")

if __name__ == "__main__":
    i = int(input())
    x = load_testing()[i:i + 1]
    y = softmax(affine(sigmoid(affine(x, params["W1"], params["b1"])), params["W2"], params["b2"]))
    print(int(np.argmax(y)))
