"""課題1: 3層ニューラルネットワーク(順伝播)。標準入力の番号のテスト画像を識別する。"""

import numpy as np
from mnist_data import load_testing

D, M, C = 784, 100, 10


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def softmax(a):
    alpha = np.max(a, axis=1, keepdims=True)
    e = np.exp(a - alpha)
    return e / np.sum(e, axis=1, keepdims=True)


def affine(x, W, b):
    # W は M 行 d 列(式1): 行 j がノード j の重み
    return x @ W.T + b


np.random.seed(0)
W1 = np.random.normal(0, np.sqrt(1 / D), (M, D))
b1 = np.random.normal(0, np.sqrt(1 / D), M)
W2 = np.random.normal(0, np.sqrt(1 / M), (C, M))
b2 = np.random.normal(0, np.sqrt(1 / M), C)

if __name__ == "__main__":
    i = int(input())
    x = load_testing()[i:i + 1]
    y = softmax(affine(sigmoid(affine(x, W1, b1)), W2, b2))
    print(int(np.argmax(y)))
