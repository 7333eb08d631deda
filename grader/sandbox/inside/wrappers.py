"""One interface over the student's layers: the project's contract, or DLfS-style classes."""

from __future__ import annotations

import inspect

# Keyword names of DLfS constructors where they differ from the course's symbols.
DLFS_ALIASES = {
    "dropout": {"ratio": "dropout_ratio"},
    "momentum": {"alpha": "momentum"},
    "rmsprop": {"rho": "decay_rate"},
    "adam": {"alpha": "lr"},
}


def accepted_kwargs(cls, kind: str, kwargs: dict) -> dict:
    """The keyword arguments ``cls`` accepts, renamed to its DLfS names where they differ.

    Settings a class has no parameter for (e.g. AdaGrad's h0) are left out: the class
    then uses its own default, and the check compares against the course's values.
    """
    accepted = inspect.signature(cls).parameters
    out = {}
    for name, value in kwargs.items():
        target = name if name in accepted else DLFS_ALIASES.get(kind, {}).get(name)
        if target in accepted:
            out[target] = value
    return out


# Where a DLfS layer keeps the gradient of each parameter.
DLFS_GRADS = {"W": "dW", "b": "db", "gamma": "dgamma", "beta": "dbeta"}


class NativeLayer:
    """The project's own contract: forward(x, train), backward(dout), params, grads."""

    def __init__(self, layer) -> None:
        self.layer = layer

    def forward(self, x, train):
        return self.layer.forward(x, train)

    def loss(self, x, labels):
        return self.layer.forward(x, labels)

    def backward(self, dout):
        dx = self.layer.backward() if dout is None else self.layer.backward(dout)
        return dx, dict(getattr(self.layer, "grads", {}) or {})

    def set_params(self, params):
        for name, value in params.items():
            self.layer.params[name][...] = value

    def state(self, names):
        return {n: getattr(self.layer, n) for n in names if hasattr(self.layer, n)}


class DlfsLayer:
    """A "Deep Learning from Scratch" layer: W as (in, out), grads in dW/db/dgamma/dbeta."""

    def __init__(self, layer, kind: str) -> None:
        self.layer, self.kind = layer, kind

    @classmethod
    def create(cls, kind: str, klass, params: dict, config: dict):
        p = dict(params)
        if kind == "affine":
            p["W"] = p["W"].T.copy()
        if kind == "maxpool2d":
            args = {"pool_h": config["size"], "pool_w": config["size"],
                    "stride": config.get("stride", config["size"]), "pad": config.get("pad", 0)}
        else:
            args = {**p, **accepted_kwargs(klass, kind, config)}
        return cls(klass(**args), kind)

    def forward(self, x, train):
        sig = inspect.signature(self.layer.forward)
        if len(sig.parameters) >= 2:
            return self.layer.forward(x, train)
        return self.layer.forward(x)

    def loss(self, x, labels):
        return self.layer.forward(x, labels)

    def backward(self, dout):
        dx = self.layer.backward() if dout is None else self.layer.backward(dout)
        grads = {}
        for name, grad_name in DLFS_GRADS.items():
            value = getattr(self.layer, grad_name, None)
            if value is not None and hasattr(self.layer, name):
                grads[name] = value.T if (self.kind == "affine" and name == "W") else value
        return dx, grads

    def set_params(self, params):
        for name, value in params.items():
            target = getattr(self.layer, name)
            target[...] = value.T if (self.kind == "affine" and name == "W") else value

    def state(self, names):
        return {n: getattr(self.layer, n) for n in names if hasattr(self.layer, n)}
