"""課題3: 誤差逆伝播法による3層ニューラルネットワークの学習。"""

import sys

import numpy as np
from mnist_data import load_training

D, M, C, B = 784, 100, 10, 100
EPOCHS, ETA = 20, 0.5


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def softmax(a):
    alpha = np.max(a, axis=1, keepdims=True)
    e = np.exp(a - alpha)
    return e / np.sum(e, axis=1, keepdims=True)


def affine(x, W, b):
    return x @ W.T + b


def cross_entropy(y, onehot):
    return -np.sum(onehot * np.log(y + 1e-12)) / y.shape[0]


def softmax_cross_entropy_backward(y, onehot):
    # 式12
    return (y - onehot) / y.shape[0]


def affine_backward(dy, x, W):
    # 式16-18(行ベクトルのバッチ)
    dx = dy @ W
    dW = dy.T @ x
    db = dy.sum(axis=0)
    return dx, dW, db


def sigmoid_backward(dy, y):
    # 式19: y はシグモイドの出力
    return dy * (1 - y) * y


def sgd(param, grad, lr):
    return param - lr * grad


np.random.seed(0)
W1 = np.random.normal(0, np.sqrt(1 / D), (M, D))
b1 = np.zeros(M)
W2 = np.random.normal(0, np.sqrt(1 / M), (C, M))
b2 = np.zeros(C)

if __name__ == "__main__":
    X, Y = load_training()
    T = np.eye(C)[Y]
    n = len(X)
    for epoch in range(EPOCHS):
        losses = []
        for _ in range(n // B):
            idx = np.random.choice(n, B, replace=False)
            x, t = X[idx], T[idx]
            y1 = sigmoid(affine(x, W1, b1))
            y2 = softmax(affine(y1, W2, b2))
            losses.append(cross_entropy(y2, t))
            da2 = softmax_cross_entropy_backward(y2, t)
            dy1, dW2, db2 = affine_backward(da2, y1, W2)
            da1 = sigmoid_backward(dy1, y1)
            _, dW1, db1 = affine_backward(da1, x, W1)
            W1, b1 = sgd(W1, dW1, ETA), sgd(b1, db1, ETA)
            W2, b2 = sgd(W2, dW2, ETA), sgd(b2, db2, ETA)
        print(np.mean(losses))
        print(f"epoch {epoch + 1} done", file=sys.stderr)
    np.savez("params.npz", W1=W1, b1=b1, W2=W2, b2=b2)
