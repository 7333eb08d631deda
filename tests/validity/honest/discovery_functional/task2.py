"""課題2: ミニバッチのクロスエントロピー誤差の平均を出力する。"""

import numpy as np
from mnist_data import load_training

D, M, C, B = 784, 100, 10, 100


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def softmax(a):
    alpha = np.max(a, axis=1, keepdims=True)
    e = np.exp(a - alpha)
    return e / np.sum(e, axis=1, keepdims=True)


def affine(x, W, b):
    return x @ W.T + b


def cross_entropy(y, onehot):
    # 式8: バッチの平均
    return -np.sum(onehot * np.log(y + 1e-12)) / y.shape[0]


np.random.seed(0)
W1 = np.random.normal(0, np.sqrt(1 / D), (M, D))
b1 = np.random.normal(0, np.sqrt(1 / D), M)
W2 = np.random.normal(0, np.sqrt(1 / M), (C, M))
b2 = np.random.normal(0, np.sqrt(1 / M), C)

X, Y = load_training()
idx = np.random.choice(len(X), B, replace=False)
y2 = softmax(affine(sigmoid(affine(X[idx], W1, b1)), W2, b2))
print(cross_entropy(y2, np.eye(C)[Y[idx]]))
