# 課題2: ミニバッチのクロスエントロピー誤差
import numpy as np
from ch05.two_layer_net import TwoLayerNet
from mnist_reader import load_mnist

np.random.seed(1)
net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.1)
(x_train, t_train), _ = load_mnist()
batch_mask = np.random.choice(x_train.shape[0], 100)
print(net.loss(x_train[batch_mask], t_train[batch_mask]))
