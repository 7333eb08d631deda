"""PyTorch reference solutions of part 2 (B1 MNIST CNN, B2 smile classifier, B3 DCGAN).

PyTorch is an optional extra (``pip install .[torch]``). Importing this package does not
import torch; the modules that need it do, so that :mod:`reference.torch_adapter.faces`
(numpy only) works without it and the numpy code paths never load it.

Entry points::

    python -m reference.torch_adapter.b1 [--config overfit|best] --out DIR
    python -m reference.torch_adapter.faces --out DIR
    python -m reference.torch_adapter.b2 --data DIR --out DIR
    python -m reference.torch_adapter.b3 --out DIR
    python -m reference.torch_adapter.export --out submissions/framework_reference
"""
