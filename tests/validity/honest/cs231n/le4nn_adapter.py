"""le4nn_adapter.py for a CS231n-style functional code base (docs/api.en.md, section 3).

The grader calls ``LAYERS[kind](params, config)`` and ``OPTIMIZERS[kind](hyper)``; each
factory returns an object with the grader's interface, built on the functions of
``cs231n/layers.py`` and ``cs231n/optim.py``.
"""

from cs231n import layers, optim


class Layer:
    """forward(x, train) -> y, backward(dout) -> dx; ``params`` and ``grads`` by name.

    The grader writes new parameter values into the arrays of ``params`` (in place), so
    forward reads them from there on every call.
    """

    def __init__(self, params=None):
        self.params = params or {}
        self.grads = {}
        self.cache = None


class Affine(Layer):
    # The grader's W is (out, in), row j the weights of node j (course eq. 1);
    # CS231n's w is (in, out): transpose both ways.
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
    """2-D input: batchnorm_*; 4-D input: spatial_batchnorm_* (γ, β per channel)."""

    def __init__(self, params, config):
        super().__init__(params)
        # Same running-average convention as the grader: running = m·running + (1−m)·batch.
        self.bn_param = {"eps": config["eps"], "momentum": config["momentum"]}
        self.spatial = False

    def forward(self, x, train=False):
        self.bn_param["mode"] = "train" if train else "test"
        self.spatial = x.ndim == 4
        forward = layers.spatial_batchnorm_forward if self.spatial else layers.batchnorm_forward
        out, self.cache = forward(x, self.params["gamma"], self.params["beta"], self.bn_param)
        return out

    def backward(self, dout):
        backward = layers.spatial_batchnorm_backward if self.spatial \
            else layers.batchnorm_backward_alt
        dx, dgamma, dbeta = backward(dout, self.cache)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx


class Dropout(Layer):
    def __init__(self, config):
        super().__init__()
        # The grader's ratio ρ is the share DROPPED; CS231n's p is the share KEPT.
        self.dropout_param = {"p": 1.0 - config["ratio"]}

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
        if config.get("pad", 0):
            # Raise on what the code base does not do: the case is then "not accepted"
            # (padding in pooling is not required), never silently wrong.
            raise ValueError("max_pool_forward_naive has no padding")
        self.pool_param = {"pool_height": config["size"], "pool_width": config["size"],
                           "stride": config["stride"]}

    def forward(self, x, train=False):
        out, self.cache = layers.max_pool_forward_naive(x, self.pool_param)
        return out

    def backward(self, dout):
        return layers.max_pool_backward_naive(dout, self.cache)


class SoftmaxLoss(Layer):
    """The loss: forward(x, labels) -> mean cross-entropy, backward() -> ∂E/∂x."""

    def forward(self, x, labels):
        loss, self.cache = layers.softmax_loss(x, labels)
        return loss

    def backward(self):
        return self.cache


class Optimizer:
    """update(params, grads) over a rule(w, dw, config) -> (next_w, config), one config per
    parameter. Writes next_w INTO the array the grader handed over: the network holds
    references to these arrays, so a new array would never reach its layers."""

    def __init__(self, rule, config):
        self.rule, self.config, self.configs = rule, config, {}

    def update(self, params, grads):
        for name, w in params.items():
            config = self.configs.setdefault(name, dict(self.config))
            next_w, self.configs[name] = self.rule(w, grads[name], config)
            w[...] = next_w


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
    # Adam's step size is hyper["alpha"] (course eq. 55), not "lr".
    "adam": lambda hyper: Optimizer(optim.adam, {"learning_rate": hyper["alpha"],
                                                 "beta1": hyper["beta1"],
                                                 "beta2": hyper["beta2"],
                                                 "epsilon": hyper["eps"]}),
}
