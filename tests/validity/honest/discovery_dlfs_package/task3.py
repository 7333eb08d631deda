# 課題3: 誤差逆伝播法による学習(ゼロから作るDeep Learning 5章のTwoLayerNet)
import sys
import numpy as np
from ch05.two_layer_net import TwoLayerNet
from common.optimizer import SGD
from mnist_reader import load_mnist

np.random.seed(1)
(x_train, t_train), _ = load_mnist()
net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.1)
optimizer = SGD(lr=0.5)
train_size, batch_size = x_train.shape[0], 100
iter_per_epoch = max(train_size // batch_size, 1)

for epoch in range(10):
    losses = []
    for i in range(iter_per_epoch):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        losses.append(net.loss(x_batch, t_batch))
    print(np.mean(losses))
    print("epoch", epoch + 1, file=sys.stderr)

np.savez("params.npz", **net.params)
