"""Functional layers, losses and optimizers behind the worker's interface.

Three families are recognised by their names and parameter names (:mod:`.names`,
:mod:`.signatures`):

- CS231n: ``affine_forward(x, w, b) → (out, cache)``, ``affine_backward(dout, cache) →
  (dx, dw, db)``, the same for relu, sigmoid, batchnorm (``bn_param``), dropout
  (``dropout_param``), ``conv_forward_naive`` (``conv_param``), ``max_pool_forward_naive``
  (``pool_param``); ``softmax_loss(x, y) → (loss, dx)``; ``sgd(w, dw, config) → (w, config)``,
  ``sgd_momentum``, ``rmsprop``, ``adam``.
- "Deep Learning from Scratch" ``common/functions.py``: ``sigmoid(x)``, ``relu(x)``,
  ``softmax(x)``, ``cross_entropy_error(y, t)``, ``softmax_loss(X, t)``, ``sigmoid_grad(x)``.
- The course's plain numpy code: ``sigmoid(t)``, ``softmax(a)``, ``affine(x, W, b)``,
  ``cross_entropy(y, onehot)``, backward functions such as ``sigmoid_backward(dy, y)``,
  ``affine_backward(dy, x, W) → (dx, dW, db)``, ``sgd(param, grad, lr)``.

A forward function alone serves the forward checks; the backward check is then not
attempted (the reason names the backward functions looked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import signatures
from .conventions import COURSE, Labels, Layout
from .names import PARAM_ALIASES, PARAM_ORDER, norm
from .wrappers import NotAttempted, write_back

FORWARD_ROLES = {
    "affine": (("x", "W", "b"), ("x", "W", "b")),
    "sigmoid": (("x",), ("x",)),
    "relu": (("x",), ("x",)),
    "dropout": (("x", "config", "ratio", "keep", "train", "mode"), ("x",)),
    "batchnorm": (("x", "gamma", "beta", "config", "eps", "momentum", "train", "mode"),
                  ("x", "gamma", "beta")),
    "conv2d": (("x", "W", "b", "config", "stride", "pad"), ("x", "W", "b")),
    "maxpool2d": (("x", "config", "size", "size_w", "stride", "pad"), ("x",)),
}
BACKWARD_ROLES = ("dout", "cache", "out", "x", "W", "b", "gamma", "beta", "config", "stride",
                  "pad", "size", "size_w", "ratio", "keep", "eps", "momentum", "train", "mode")


@dataclass
class Function:
    """A student's function and what each of its parameters means."""

    fn: Callable
    roles: dict[str, str]
    file: str
    name: str

    def __call__(self, values: dict[str, Any]) -> Any:
        return signatures.call(self.fn, self.roles, values)

    @property
    def derivative(self) -> bool:
        """``sigmoid_grad(x)``: the elementwise derivative, not a product with dout."""
        return "dout" not in self.roles.values() and "cache" not in self.roles.values()


def forward_function(kind: str, fn: Callable, file: str, name: str) -> Function | None:
    roles, required = FORWARD_ROLES[kind]
    mapping = signatures.assign(fn, roles, required)
    return None if mapping is None else Function(fn, mapping, file, name)


def backward_function(kind: str, fn: Callable, file: str, name: str) -> Function | None:
    """``fn`` as a backward of ``kind``: with the upstream gradient, or a derivative f'(x)."""
    mapping = signatures.assign(fn, BACKWARD_ROLES, ("dout",))
    if mapping is None and kind in ("sigmoid", "relu"):
        mapping = signatures.assign(fn, ("out", "x"), ())
        if mapping is None or len(mapping) != 1:
            return None
    return None if mapping is None else Function(fn, mapping, file, name)


@dataclass
class LayerFunctions:
    """The forward (and backward, when found) of one layer kind, from one file."""

    kind: str
    forward: Function
    backward: Function | None
    backward_names: str = ""
    layout: Layout = COURSE
    keeps: bool = False


class FunctionLayer:
    """Functions of one layer kind behind the worker's layer interface."""

    def __init__(self, fns: LayerFunctions, params: dict, config: dict) -> None:
        self.fns, self.layout = fns, fns.layout
        self.params = {k: np.array(v) for k, v in params.items()}
        self.config = config
        self.settings = settings(fns.kind, config, fns.keeps)  # kept: running statistics
        self.saved: dict[str, Any] = {}

    def forward(self, x, train):
        self.settings["mode"] = "train" if train else "test"
        values = self._values(train)
        values["x"] = self.layout.batch(x)
        out = self.fns.forward(values)
        y, cache = (out[0], out[1] if len(out) == 2 else out[1:]) if isinstance(
            out, tuple) else (out, None)
        self.saved = {"x": values["x"], "out": y, "cache": cache}
        return self.layout.unbatch(y)

    def loss(self, x, labels):
        raise NotAttempted({"why": "not_found"})

    def backward(self, dout):
        back = self.fns.backward
        if back is None:
            raise NotAttempted({"why": "forward_only", "name": self.fns.forward.name,
                                "file": self.fns.forward.file, "style": "function",
                                "looked_for": self.fns.backward_names})
        upstream = self.layout.batch(dout)
        values = {**self._values(True), **self.saved, "dout": upstream}
        if back.derivative:
            return self.layout.unbatch(upstream * np.asarray(back(values))), {}
        return self._gradients(back(values))

    def set_params(self, params):
        for name, value in params.items():
            self.params[name] = np.array(value)

    def state(self, names):
        return {n: self.settings[n] for n in names if n in self.settings}

    def _values(self, train: bool) -> dict[str, Any]:
        p = self.params
        values: dict[str, Any] = {**self.settings, "config": self.settings, "train": train}
        if "W" in p:
            values["W"] = self.layout.weights(p["W"]) if self.fns.kind == "affine" else p["W"]
        if "b" in p:
            values["b"] = self.layout.bias(p["b"]) if self.fns.kind == "affine" else p["b"]
        values.update({k: p[k] for k in ("gamma", "beta") if k in p})
        return values

    def _gradients(self, out) -> tuple[Any, dict[str, Any]]:
        names = sorted(self.params, key=PARAM_ORDER.index)
        if isinstance(out, dict):
            found = {_grad_name(k): v for k, v in out.items()}
            dx, grads = found.get("x"), {n: found.get(n) for n in names}
        elif isinstance(out, tuple | list):
            dx, grads = out[0], dict(zip(names, out[1:], strict=False))
        else:
            dx, grads = out, {}
        for name, grad in list(grads.items()):
            if name == "W" and self.fns.kind == "affine":
                grad = self.layout.weight_grad(grad)
            if isinstance(grad, np.ndarray) and grad.size == self.params[name].size:
                grad = grad.reshape(self.params[name].shape)
            grads[name] = grad
        return self.layout.unbatch(dx), {k: v for k, v in grads.items() if v is not None}


def _grad_name(key: str) -> str:
    """``dx`` → x, ``dW``/``grad_w`` → W, ``dgamma`` → gamma: the parameter a gradient is for."""
    k = norm(str(key))
    for prefix in ("grad", "d"):
        if k.startswith(prefix) and len(k) > len(prefix):
            k = k[len(prefix):]
            break
    for name in PARAM_ORDER:
        if k in {norm(a) for a in PARAM_ALIASES[name]}:
            return name
    return "x" if k in {"x", "in", "input", "inputs"} else k


def settings(kind: str, config: dict, keeps: bool) -> dict[str, Any]:
    """The settings a function of ``kind`` may ask for, under the names code bases use.

    Passed as separate arguments (``stride``, ``pad``) or as one dict (CS231n's
    ``conv_param``, ``pool_param``, ``dropout_param``, ``bn_param``); the dict is kept
    between calls, as CS231n keeps the running statistics of batchnorm in ``bn_param``.
    """
    ratio = config.get("ratio", 0.5)
    size = config.get("size", 2)
    out = {"stride": config.get("stride", size if kind == "maxpool2d" else 1),
           "pad": config.get("pad", 0)}
    if kind == "maxpool2d":
        out.update(pool_height=size, pool_width=size, pool_size=size, size=size, size_w=size)
    elif kind == "dropout":
        out.update(p=1 - ratio if keeps else ratio, ratio=1 - ratio if keeps else ratio,
                   dropout_ratio=ratio, rate=ratio, keep=1 - ratio, keep_prob=1 - ratio)
    elif kind == "batchnorm":
        out.update(eps=config.get("eps", 1e-5), momentum=config.get("momentum", 0.9))
    return out


# --- the loss: softmax and cross-entropy ------------------------------------------------

LOSS_ROLES = ("logits", "target")
CE_ROLES = ("prob", "target")
LOSS_BACKWARD_ROLES = ("dout", "prob", "logits", "target")


@dataclass
class LossFunctions:
    """A loss of logits, or a softmax and a cross-entropy; a backward when found."""

    loss: Function | None = None
    softmax: Function | None = None
    cross_entropy: Function | None = None
    backward: Function | None = None
    backward_names: str = ""
    labels: Labels = field(default_factory=Labels)

    @property
    def name(self) -> str:
        if self.loss is not None:
            return self.loss.name
        return f"{self.softmax.name} + {self.cross_entropy.name}"

    @property
    def file(self) -> str:
        return (self.loss or self.cross_entropy).file


def loss_function(fn: Callable, file: str, name: str, roles=LOSS_ROLES) -> Function | None:
    mapping = signatures.assign(fn, roles, roles)
    return None if mapping is None else Function(fn, mapping, file, name)


def softmax_function(fn: Callable, file: str, name: str) -> Function | None:
    mapping = signatures.assign(fn, ("x",), ("x",))
    return None if mapping is None else Function(fn, mapping, file, name)


def loss_backward_function(fn: Callable, file: str, name: str) -> Function | None:
    mapping = signatures.assign(fn, LOSS_BACKWARD_ROLES, ("target",))
    if mapping is None or not {"prob", "logits"} & set(mapping.values()):
        return None
    return Function(fn, mapping, file, name)


def evaluate_loss(fns: LossFunctions, labels: Labels, x, t) -> tuple[Any, Any, Any]:
    """(loss, probabilities or None, dx returned with the loss or None) for logits ``x``."""
    a, target = labels.batch(x), labels.encode(t, np.shape(x)[-1])
    if fns.loss is not None:
        out = fns.loss({"logits": a, "target": target})
        if isinstance(out, tuple):
            return out[0], None, out[1] if len(out) > 1 else None
        return out, None, None
    p = fns.softmax({"x": a})
    return fns.cross_entropy({"prob": p, "target": target}), p, None


class FunctionLoss:
    """The softmax cross-entropy of functions behind the worker's loss interface."""

    def __init__(self, fns: LossFunctions) -> None:
        self.fns, self.labels = fns, fns.labels
        self.saved: dict[str, Any] = {}

    def forward(self, x, train):
        raise NotAttempted({"why": "not_found"})

    def loss(self, x, labels):
        value, p, dx = evaluate_loss(self.fns, self.labels, x, labels)
        self.saved = {"logits": self.labels.batch(x), "prob": p, "dx": dx,
                      "target": self.labels.encode(labels, np.shape(x)[-1])}
        return value

    def backward(self, dout):
        if self.saved.get("dx") is not None:
            return self.labels.unbatch(self.saved["dx"]), {}
        back = self.fns.backward
        if back is None or ("prob" in back.roles.values() and self.saved["prob"] is None
                            and self.fns.softmax is None):
            raise NotAttempted({"why": "forward_only", "name": self.fns.name,
                                "file": self.fns.file, "style": "function",
                                "looked_for": self.fns.backward_names})
        values = {**self.saved, "dout": 1.0}
        if values["prob"] is None and "prob" in back.roles.values():
            values["prob"] = self.fns.softmax({"x": values["logits"]})
        return self.labels.unbatch(back(values)), {}

    def set_params(self, params):
        return None

    def state(self, names):
        return {}


# --- optimizers -------------------------------------------------------------------------

OPTIMIZER_ROLES = ("param", "grad", "config", "params", "grads", "lr")


def optimizer_function(fn: Callable, file: str, name: str, kind: str) -> Function | None:
    """``fn`` as an optimizer: CS231n's ``(w, dw, config)``, or plain SGD ``(w, dw, lr)``."""
    mapping = signatures.assign(fn, OPTIMIZER_ROLES, ())
    if mapping is None:
        return None
    roles = set(mapping.values())
    per_array = {"param", "grad"} <= roles
    whole = {"params", "grads"} <= roles
    stateful = "config" in roles or kind == "sgd"
    if not (per_array or whole) or not stateful:
        return None
    return Function(fn, mapping, file, name)


def cs231n_config(kind: str, hyper: dict) -> dict[str, Any]:
    """The course's settings under CS231n's config names, and under the course's own."""
    lr = hyper.get("alpha" if kind == "adam" else "lr", 0.01)
    config = {**hyper, "learning_rate": lr, "lr": lr}
    if kind == "momentum":
        config["momentum"] = hyper.get("alpha", 0.9)
    if "rho" in hyper:
        config["decay_rate"] = hyper["rho"]
    if "eps" in hyper or "h0" in hyper:
        config["epsilon"] = hyper.get("eps", hyper.get("h0"))
    return config


class FunctionOptimizer:
    """An optimizer function called once per parameter array (or once on the dicts)."""

    def __init__(self, fn: Function, kind: str, hyper: dict) -> None:
        self.fn, self.kind, self.hyper = fn, kind, hyper
        self.configs: dict[str, dict] = {}

    def update(self, params: dict, grads: dict) -> None:
        lr = self.hyper.get("lr", self.hyper.get("alpha", 0.01))
        if "params" in self.fn.roles.values():
            result = self.fn({"params": params, "grads": grads, "lr": lr,
                              "config": self.configs.setdefault("", cs231n_config(
                                  self.kind, self.hyper))})
            if isinstance(result, dict):
                for key, value in result.items():
                    write_back(params, key, value)
            return
        for key in params:
            config = self.configs.setdefault(key, cs231n_config(self.kind, self.hyper))
            result = self.fn({"param": params[key], "grad": grads[key], "lr": lr,
                              "config": config})
            if isinstance(result, tuple):
                result, new_config = result[0], result[1] if len(result) > 1 else None
                if isinstance(new_config, dict):
                    self.configs[key] = new_config
            write_back(params, key, result)

