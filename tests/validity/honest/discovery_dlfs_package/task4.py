# 課題4: 課題3で学習したパラメータでテスト画像を識別する
import numpy as np
from ch05.two_layer_net import TwoLayerNet
from mnist_reader import load_mnist

net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
params = np.load("params.npz")
for key in ("W1", "b1", "W2", "b2"):
    net.params[key][...] = params[key]
_, x_test = load_mnist()
i = int(input())
print(int(np.argmax(net.predict(x_test[i:i + 1]), axis=1)[0]))
