"""Maps the grader's layer and optimizer kinds to the reference library (see docs/api.en.md)."""

from reference.nn.factory import LAYER_KINDS, OPTIMIZER_KINDS, build_layer, build_optimizer
from reference.nn.regularizers import Regularizer

LAYERS = {kind: (lambda params, config, kind=kind: build_layer(kind, params, config))
          for kind in LAYER_KINDS}
OPTIMIZERS = {kind: (lambda hyper, kind=kind: build_optimizer(kind, hyper))
              for kind in OPTIMIZER_KINDS}
# L2 weight decay: penalty(W) and gradient(W) per weight tensor (the grader applies them to
# the weights W1, W2 …, as the reference's trainer does).
REGULARIZERS = {"weight_decay": lambda hyper: Regularizer.create("l2", hyper["lam"])}
