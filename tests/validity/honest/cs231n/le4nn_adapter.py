"""le4nn_adapter.py for a CS231n-style functional code base: the example of docs/api (section 5).

tests/validity/test_docs_adapter.py keeps this file and the documented code identical.
"""

# le4nn_adapter.py — beside the folder cs231n/ (layers.py, optim.py)
from cs231n import layers, optim


class Layer:
    def __init__(self, params=None):
        self.params = params or {}   # the grader writes new values into these arrays
        self.grads = {}
        self.cache = None


class Affine(Layer):
    # grader W is (out, in) (eq. 1); CS231n's w is (in, out)
    def forward(self, x, train=False):
        out, self.cache = layers.affine_forward(x, self.params["W"].T, self.params["b"])
        return out

    def backward(self, dout):
        dx, dw, db = layers.affine_backward(dout, self.cache)
        self.grads = {"W": dw.T, "b": db}
        return dx


class Activation(Layer):
    def __init__(self, forward, backward):
        super().__init__()
        self._forward, self._backward = forward, backward

    def forward(self, x, train=False):
        out, self.cache = self._forward(x)
        return out

    def backward(self, dout):
        return self._backward(dout, self.cache)


class BatchNorm(Layer):
    def __init__(self, params, config):
        super().__init__(params)
        self.bn_param = {"eps": config["eps"], "momentum": config["momentum"]}
        self.spatial = False

    def forward(self, x, train=False):
        self.bn_param["mode"] = "train" if train else "test"
        self.spatial = x.ndim == 4   # 4-D: spatial batchnorm, γ and β per channel
        f = layers.spatial_batchnorm_forward if self.spatial else layers.batchnorm_forward
        out, self.cache = f(x, self.params["gamma"], self.params["beta"], self.bn_param)
        return out

    def backward(self, dout):
        b = layers.spatial_batchnorm_backward if self.spatial else layers.batchnorm_backward_alt
        dx, dgamma, dbeta = b(dout, self.cache)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx


class Dropout(Layer):
    def __init__(self, config):
        super().__init__()
        self.dropout_param = {"p": 1.0 - config["ratio"]}   # ρ is the share dropped

    def forward(self, x, train=False):
        self.dropout_param["mode"] = "train" if train else "test"
        out, self.cache = layers.dropout_forward(x, self.dropout_param)
        return out

    def backward(self, dout):
        return layers.dropout_backward(dout, self.cache)


class Conv(Layer):
    def __init__(self, params, config):
        super().__init__(params)
        self.conv_param = {"stride": config["stride"], "pad": config["pad"]}

    def forward(self, x, train=False):
        out, self.cache = layers.conv_forward_naive(x, self.params["W"], self.params["b"],
                                                    self.conv_param)
        return out

    def backward(self, dout):
        dx, dw, db = layers.conv_backward_naive(dout, self.cache)
        self.grads = {"W": dw, "b": db}
        return dx


class MaxPool(Layer):
    def __init__(self, config):
        super().__init__()
        if config.get("pad", 0):   # not supported: raise, the case is "not accepted"
            raise ValueError("max_pool_forward_naive has no padding")
        self.pool_param = {"pool_height": config["size"], "pool_width": config["size"],
                           "stride": config["stride"]}

    def forward(self, x, train=False):
        out, self.cache = layers.max_pool_forward_naive(x, self.pool_param)
        return out

    def backward(self, dout):
        return layers.max_pool_backward_naive(dout, self.cache)


class SoftmaxLoss(Layer):
    def forward(self, x, labels):        # the loss: forward(x, labels), backward()
        loss, self.cache = layers.softmax_loss(x, labels)
        return loss

    def backward(self):
        return self.cache                # softmax_loss's cache is dx


class Optimizer:
    def __init__(self, rule, config):
        self.rule, self.config, self.configs = rule, config, {}

    def update(self, params, grads):
        for name, w in params.items():
            config = self.configs.setdefault(name, dict(self.config))
            next_w, self.configs[name] = self.rule(w, grads[name], config)
            w[...] = next_w              # in place: the network holds references to w


LAYERS = {
    "affine": lambda params, config: Affine(params),
    "relu": lambda params, config: Activation(layers.relu_forward, layers.relu_backward),
    "sigmoid": lambda params, config: Activation(layers.sigmoid_forward,
                                                 layers.sigmoid_backward),
    "softmax_cross_entropy": lambda params, config: SoftmaxLoss(),
    "batchnorm": BatchNorm,
    "dropout": lambda params, config: Dropout(config),
    "conv2d": Conv,
    "maxpool2d": lambda params, config: MaxPool(config),
}
OPTIMIZERS = {
    "sgd": lambda hyper: Optimizer(optim.sgd, {"learning_rate": hyper["lr"]}),
    "momentum": lambda hyper: Optimizer(optim.sgd_momentum, {"learning_rate": hyper["lr"],
                                                             "momentum": hyper["alpha"]}),
    "rmsprop": lambda hyper: Optimizer(optim.rmsprop, {"learning_rate": hyper["lr"],
                                                       "decay_rate": hyper["rho"],
                                                       "epsilon": hyper["eps"]}),
    "adam": lambda hyper: Optimizer(optim.adam, {"learning_rate": hyper["alpha"],
                                                 "beta1": hyper["beta1"],
                                                 "beta2": hyper["beta2"],
                                                 "epsilon": hyper["eps"]}),
}
