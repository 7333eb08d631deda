"""Maps the grader's layer and optimizer kinds to the reference library (see docs/api.en.md)."""

from reference.nn.factory import LAYER_KINDS, OPTIMIZER_KINDS, build_layer, build_optimizer

LAYERS = {kind: (lambda params, config, kind=kind: build_layer(kind, params, config))
          for kind in LAYER_KINDS}
OPTIMIZERS = {kind: (lambda hyper, kind=kind: build_optimizer(kind, hyper))
              for kind in OPTIMIZER_KINDS}
