# 課題1: 学習前のネットワークでテスト画像を1枚識別する
import numpy as np
from ch05.two_layer_net import TwoLayerNet
from mnist_reader import load_mnist

np.random.seed(1)
net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.1)
_, x_test = load_mnist()
i = int(input())
print(int(np.argmax(net.predict(x_test[i:i + 1]), axis=1)[0]))
