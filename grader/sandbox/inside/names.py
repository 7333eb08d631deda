"""The names the grader looks for: classes, functions and parameters, per kind.

Names are compared normalised (:func:`norm`: lower case, no underscores), so ``ReLU``,
``Relu`` and ``relu`` are one name, and ``Softmax_with_loss`` is ``SoftmaxWithLoss``.
Each tuple is in order of preference: the name of "Deep Learning from Scratch" first.
"""

from __future__ import annotations


def norm(name: str) -> str:
    return name.replace("_", "").lower()


# The class name "Deep Learning from Scratch" gives each kind, as messages show it.
BOOK_CLASSES = {"affine": "Affine", "sigmoid": "Sigmoid", "relu": "Relu",
                "softmax_cross_entropy": "SoftmaxWithLoss", "dropout": "Dropout",
                "batchnorm": "BatchNormalization", "conv2d": "Convolution",
                "maxpool2d": "Pooling", "sgd": "SGD", "momentum": "Momentum",
                "adagrad": "AdaGrad", "rmsprop": "RMSprop", "adadelta": "AdaDelta",
                "adam": "Adam",
                "weight_decay": "WeightDecay"}  # the book has none: the name suggested
LAYER_CLASSES = {
    "affine": ("affine", "affinelayer", "linear", "linearlayer", "dense", "denselayer",
               "fullyconnected", "fullyconnectedlayer", "fc", "fclayer"),
    "sigmoid": ("sigmoid", "sigmoidlayer", "sigmoidactivation"),
    "relu": ("relu", "relulayer", "reluactivation"),
    "softmax_cross_entropy": ("softmaxwithloss", "softmaxcrossentropy",
                              "softmaxcrossentropyloss", "softmaxwithcrossentropy",
                              "softmaxcrossentropywithloss", "softmaxloss", "softmaxce",
                              "softmaxwithlosslayer", "softmaxcrossentropylayer"),
    "dropout": ("dropout", "dropoutlayer"),
    "batchnorm": ("batchnormalization", "batchnorm", "batchnorm1d", "batchnormalization1d",
                  "batchnormlayer", "batchnormalizationlayer", "bn"),
    "conv2d": ("convolution", "conv2d", "convolution2d", "conv", "convlayer", "conv2dlayer",
               "convolutionlayer", "convolutional"),
    "maxpool2d": ("pooling", "maxpooling", "maxpool", "maxpool2d", "maxpooling2d",
                  "maxpoollayer", "maxpoolinglayer", "poolinglayer"),
}
OPTIMIZER_CLASSES = {
    "sgd": ("sgd", "sgdoptimizer"),
    "momentum": ("momentum", "momentumsgd", "sgdmomentum", "momentumoptimizer"),
    "adagrad": ("adagrad", "adagradoptimizer"),
    "rmsprop": ("rmsprop", "rmspropoptimizer"),
    "adadelta": ("adadelta", "adadeltaoptimizer"),
    "adam": ("adam", "adamoptimizer"),
}

# Functions: a kind's stems, combined with the usual ways of naming forward and backward.
LAYER_STEMS = {
    "affine": ("affine", "linear", "fc", "dense", "fullyconnected"),
    "sigmoid": ("sigmoid",),
    "relu": ("relu",),
    "dropout": ("dropout",),
    "batchnorm": ("batchnorm", "batchnormalization", "bn"),
    "conv2d": ("conv", "conv2d", "convolution", "convolution2d"),
    "maxpool2d": ("maxpool", "maxpooling", "maxpool2d"),
}
LOSS_STEMS = ("softmaxloss", "softmaxcrossentropy", "softmaxcrossentropyloss",
              "softmaxcrossentropyerror", "softmaxwithloss", "softmaxce", "softmaxceloss",
              "softmaxwithcrossentropy", "softmaxandcrossentropy",
              "softmaxcrossentropywithlogits", "crossentropywithlogits", "crossentropysoftmax")
SOFTMAX_NAMES = ("softmax", "softmaxforward", "stablesoftmax", "softmaxfunction")
CROSS_ENTROPY_NAMES = ("crossentropyerror", "crossentropy", "crossentropyloss", "celoss", "ce",
                       "categoricalcrossentropy", "meancrossentropy", "crossentropymean",
                       "crossentropyforward", "crossentropyerrorforward")
# "_forward" first: a file with both affine() and affine_forward() pairs the latter with
# affine_backward(dout, cache), which needs its cache.
FORWARD_FORMS = ("{}forward", "{}forwardnaive", "{}forwardfast", "{}forwardim2col",
                 "forward{}", "{}fwd", "{}")
BACKWARD_FORMS = ("{}backward", "{}backwardnaive", "{}backwardfast", "{}backwardim2col",
                  "{}backwardalt", "backward{}", "{}back", "{}bwd", "d{}", "{}grad",
                  "{}gradient", "{}derivative", "{}deriv", "{}prime", "diff{}", "grad{}")
OPTIMIZER_STEMS = {
    "sgd": ("sgd", "stochasticgradientdescent"),
    "momentum": ("sgdmomentum", "momentum", "momentumsgd"),
    "adagrad": ("adagrad",),
    "rmsprop": ("rmsprop",),
    "adadelta": ("adadelta",),
    "adam": ("adam",),
}
OPTIMIZER_FORMS = ("{}", "{}update", "update{}", "{}step")


def forms(stems: tuple[str, ...], patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Every pattern filled with every stem, without repeats, in order."""
    return tuple(dict.fromkeys(p.format(s) for s in stems for p in patterns))


def layer_functions(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The normalised function names of ``kind``'s forward and of its backward."""
    stems = LAYER_STEMS[kind]
    return forms(stems, FORWARD_FORMS), forms(stems, BACKWARD_FORMS)


# Parameter names by role (normalised). A parameter is given the role its name says;
# one left without a name the grader knows gets the one role left (see signatures.py).
_UPSTREAM = {"dout", "dy", "dz", "dh", "da", "grad", "gradout", "gradoutput", "gradient",
             "delta", "deltas", "upstream", "upstreamgrad", "dl", "de", "dedy", "dldy", "err",
             "error", "gy", "dnext", "doutput", "dtop", "topdiff", "dout1", "g"}
ROLES = {
    "x": {"x", "xs", "a", "t", "z", "u", "h", "v", "inp", "input", "inputs", "data", "in",
          "activation", "signal", "xin", "xbatch", "batch", "features", "img", "imgs",
          "image", "images", "x0", "s"},
    "out": {"y", "out", "output", "outputs", "yout", "s", "sig", "sigma", "fx", "res", "result",
            "act", "activated", "y1", "o"},
    "dout": _UPSTREAM,
    "cache": {"cache", "caches", "ctx", "context", "saved", "memo", "store", "mask", "masks"},
    "W": {"w", "weight", "weights", "kernel", "kernels", "filter", "filters", "wt"},
    "b": {"b", "bias", "biases"},
    "gamma": {"gamma", "g", "scale"},
    "beta": {"beta", "shift"},
    "config": {"param", "params", "bnparam", "dropoutparam", "convparam", "poolparam",
               "config", "cfg", "conf", "settings", "options", "opts", "hyper", "hparams"},
    "stride": {"stride", "strides"},
    "pad": {"pad", "padding"},
    "size": {"size", "poolsize", "pool", "ksize", "kernelsize", "window", "windowsize", "poolh",
             "poolheight", "k", "f", "ph", "kh", "fh", "filtersize"},
    "size_w": {"poolw", "poolwidth", "pw", "kw", "fw"},
    "ratio": {"ratio", "dropoutratio", "rate", "droprate", "dropratio", "dropprob",
              "dropoutrate", "dropoutprob", "rho", "pdrop", "dropout", "p", "prob"},
    "keep": {"keepprob", "keep", "keepratio", "keeprate", "pkeep", "keepprobability"},
    "train": {"train", "trainflg", "trainflag", "training", "istraining", "istrain",
              "trainmode", "istrainmode"},
    "mode": {"mode", "phase"},
    "eps": {"eps", "epsilon"},
    "momentum": {"momentum", "decay", "mom", "runningmomentum"},
    # losses
    "target": {"t", "target", "targets", "ytrue", "label", "labels", "onehot", "tonehot",
               "yonehot", "truth", "answer", "answers", "correct", "y", "yt", "teacher",
               "ylabel", "ylabels", "gt", "tbatch", "ybatch", "ans"},
    "prob": {"y", "p", "prob", "probs", "proba", "probability", "probabilities", "ypred",
             "pred", "preds", "prediction", "predictions", "yhat", "out", "output", "s",
             "softmax", "q", "y2", "ys", "ypredict", "yprob"},
    "logits": {"x", "a", "logits", "logit", "score", "scores", "z", "u", "inp", "input",
               "inputs", "activation", "activations", "a2", "h", "xs"},
    # optimizers
    "param": {"w", "param", "p", "theta", "x", "weight", "weights", "parameter", "value",
              "var", "variable"},
    "params": {"params", "parameters", "weightsdict", "paramsdict", "model"},
    "grad": {"dw", "grad", "g", "dparam", "gradient", "d", "dp", "dx", "delta", "dtheta", "gw"},
    "grads": {"grads", "gradients", "dparams", "gradsdict"},
    "lr": {"lr", "eta", "learningrate", "alpha", "rate", "step", "stepsize", "learnrate"},
}
# Dropout parameters whose meaning (drop or keep) varies by code base: decided by a probe.
AMBIGUOUS_RATIO = {"p", "prob", "rate", "rho"}

# Constructor parameters of layer classes, by the setting they stand for.
SIZES = {
    "n_in": {"in", "infeatures", "inputsize", "nin", "indim", "inputdim", "din", "fanin", "insize",
           "ninput", "ninputs", "numinputs", "inputs", "inunits", "prevunits", "inputshape"},
    "n_out": {"out", "outfeatures", "outputsize", "nout", "outdim", "outputdim", "dout", "fanout",
            "outsize", "noutput", "noutputs", "numoutputs", "outputs", "units", "nunits",
            "hiddensize", "nhidden", "outunits", "outputshape"},
    "features": {"numfeatures", "nfeatures", "features", "dim", "n", "size", "d", "channels",
                 "nchannels", "numchannels", "inputsize", "inputdim", "units", "nunits",
                 "numunits", "hiddensize", "featuresize", "c"},
    "in_channels": {"inchannels", "inch", "cin", "inputchannels", "channels", "nchannels",
                    "inc", "c", "ninchannels", "numchannels", "inputchannel", "channel"},
    "out_channels": {"outchannels", "outch", "filters", "numfilters", "nfilters", "filternum",
                     "fn", "k", "cout", "outputchannels", "outc", "noutchannels", "nfilter",
                     "kernels", "numkernels", "outputchannel"},
    "kernel": {"kernelsize", "filtersize", "ksize", "ks", "kernel", "fh", "filterh",
               "kh", "kernelh", "r", "f", "size", "filterheight"},
    "kernel_w": {"fw", "filterw", "kw", "kernelw", "filterwidth"},
}

# Constructor parameters of each layer kind's class, in order of preference.
CONSTRUCTOR_ROLES = {
    "affine": ("W", "b", "n_in", "n_out"),
    "dropout": ("ratio", "keep"),
    "batchnorm": ("gamma", "beta", "features", "eps", "momentum"),
    "conv2d": ("W", "b", "in_channels", "out_channels", "kernel", "kernel_w", "stride", "pad"),
    "maxpool2d": ("size", "size_w", "stride", "pad"),
}
# In a constructor "filters" and "kernel" are counts and sizes, not the weights.
ARGUMENTS = {**ROLES, **SIZES, "W": {"w", "weight", "weights", "wt", "initialw", "winit"}}
PARAM_ORDER = ("W", "b", "gamma", "beta")

# Where a layer object keeps a parameter: attributes or keys of a dict attribute.
PARAM_ALIASES = {"W": ("W", "w", "weight", "weights", "kernel", "filters", "filter"),
                 "b": ("b", "bias", "biases"),
                 "gamma": ("gamma", "g", "weight", "scale"),
                 "beta": ("beta", "bias", "shift")}
PARAM_HOLDERS = ("params", "parameters", "param", "weights")
GRAD_HOLDERS = ("grads", "grad", "gradients", "dparams", "params")
FORWARD_METHODS = ("forward", "__call__", "fprop", "forward_pass")
BACKWARD_METHODS = ("backward", "backprop", "bprop", "backward_pass")
UPDATE_METHODS = ("update", "step")
TRAIN_ATTRIBUTES = ("train_flg", "training", "train", "is_training", "is_train", "train_mode")

# Optimizer settings: the course's symbol → the names students give it, per kind.
_LR = {"lr", "eta", "learningrate", "learnrate", "stepsize", "rate"}
_EPS = {"eps", "epsilon", "delta"}
_RHO = {"rho", "decayrate", "decay", "beta", "gamma", "alpha"}
OPTIMIZER_ARGUMENTS = {
    "sgd": {"lr": _LR},
    "momentum": {"lr": _LR, "alpha": {"alpha", "momentum", "mu", "beta", "gamma", "m"}},
    "adagrad": {"lr": _LR, "h0": {"h0", "hinit", "initialaccumulatorvalue", "h", "eps",
                                  "epsilon", "delta"}},
    "rmsprop": {"lr": _LR, "rho": _RHO, "eps": _EPS},
    "adadelta": {"rho": _RHO, "eps": _EPS},
    "adam": {"alpha": {"alpha"} | _LR, "beta1": {"beta1", "b1", "betaone"},
             "beta2": {"beta2", "b2", "betatwo"}, "eps": _EPS},
}

# Weight decay (the kind "weight_decay", :mod:`.regularizers`): a class or functions of its
# own, or an SGD that takes a weight-decay argument as torch.optim.SGD does.
DECAY = "weight_decay"
REGULARIZER_CLASSES = {
    DECAY: ("weightdecay", "l2regularizer", "l2regularization", "l2regulariser",
            "l2regularisation", "l2penalty", "l2", "l2decay", "weightdecayregularizer",
            "l2weightdecay", "ridge"),
}
_DECAY_STEMS = ("weightdecay", "l2regularization", "l2regularisation", "l2regularizer",
                "l2reg", "l2decay", "l2weightdecay", "l2")
# "l2" alone is too common a name (a norm) to be taken for the decay itself.
DECAY_FUNCTIONS = tuple(n for n in forms(_DECAY_STEMS, ("{}", "apply{}", "add{}", "{}grad",
                                                        "{}gradient", "{}backward", "d{}"))
                        if n != "l2")
PENALTY_FUNCTIONS = forms(_DECAY_STEMS, ("{}loss", "{}penalty", "{}cost", "{}term"))
DECAY_METHODS = ("apply", "__call__", "update", "backward", "gradient", "grad", "regularize",
                 "addgradient", "add_gradient", "step")
PENALTY_METHODS = ("penalty", "loss", "cost", "forward", "value", "__call__")
# λ under the names code bases give it (constructors and functions).
LAMBDA = {"lam", "lambda", "lmbda", "lambd", "lamda", "weightdecay", "weightdecaylambda", "wd",
          "l2", "l2lambda", "l2reg", "reg", "regularization", "strength", "coef",
          "coefficient", "decay", "penalty", "alpha", "l2coef", "regstrength", "reglambda"}
# An optimizer's weight-decay argument (torch.optim.SGD(..., weight_decay=λ)).
OPTIMIZER_DECAY = {"weightdecay", "wd", "weightdecaylambda", "l2", "l2reg", "l2lambda",
                   "lam", "lambda", "lmbda", "lambd", "decayweight"}
