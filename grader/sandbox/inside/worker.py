"""The check worker: runs INSIDE the sandbox, imports student code, executes requests.

Started as ``python worker.py`` with the submission's workspace as its working folder.
It reads one JSON request per line from stdin and writes one JSON answer per line to
its protocol channel (the original stdout; the student code's own ``print`` goes to
stderr so it cannot corrupt the protocol). It judges nothing: the grader sends inputs,
this script returns what the student code computed, and the grader compares.

This file must run alone: it imports only the standard library and numpy, never the
grader (which is not visible in the sandbox).

Requests (arrays travel as ``{"__array__": [dtype, shape, base64 bytes]}``):
    {"op": "layer", "kind": K, "params": {...}, "config": {...}}   → {"params": names}
    {"op": "forward", "x": X, "train": bool, "project": G | null}  → {"y": Y} or {"dot": s}
    {"op": "loss", "x": X, "labels": L}                             → {"loss": float}
    {"op": "backward", "dout": D | null}                            → {"dx": DX, "grads": {...}}
    {"op": "set_params", "params": {...}}                           → {}
    {"op": "state", "names": [...]}                                 → {"state": {...}}
    {"op": "optimizer", "kind": K, "hyper": {...}, "params": {...}} → {}
    {"op": "step", "grads": {...}}                                  → {"params": {...}}
    {"op": "modules"}                                               → {"modules": [...]}
Every answer is ``{"ok": true, ...}`` or ``{"ok": false, "error": "...", "where": "..."}``.
"""

from __future__ import annotations

import ast
import base64
import importlib
import inspect
import json
import os
import sys
import traceback
import types
from pathlib import Path

import numpy as np

ADAPTER = "le4nn_adapter"
MAX_TRACE_LINES = 6

# Keyword names of DLfS constructors where they differ from the course's symbols.
DLFS_ALIASES = {
    "dropout": {"ratio": "dropout_ratio"},
    "momentum": {"alpha": "momentum"},
    "rmsprop": {"rho": "decay_rate"},
    "adam": {"alpha": "lr"},
}

# Class names of "Deep Learning from Scratch" (ゼロから作るDeep Learning) per kind.
DLFS_LAYERS = {
    "affine": ("Affine",),
    "sigmoid": ("Sigmoid",),
    "relu": ("Relu", "ReLU"),
    "softmax_cross_entropy": ("SoftmaxWithLoss",),
    "dropout": ("Dropout",),
    "batchnorm": ("BatchNormalization",),
    "conv2d": ("Convolution",),
    "maxpool2d": ("Pooling",),
}
DLFS_OPTIMIZERS = {
    "sgd": ("SGD",),
    "momentum": ("Momentum",),
    "adagrad": ("AdaGrad",),
    "rmsprop": ("RMSprop", "RMSProp"),
    "adadelta": ("AdaDelta",),
    "adam": ("Adam",),
}


# --- arrays over JSON --------------------------------------------------------------------


def decode(value):
    """JSON value → Python, arrays rebuilt; safe on untrusted input (numbers only)."""
    if isinstance(value, dict):
        if "__array__" in value:
            dtype, shape, data = value["__array__"]
            if np.dtype(dtype).kind not in "biuf":
                raise ValueError(f"array of dtype {dtype} is not numeric")
            return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy()
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def encode(value):
    if isinstance(value, np.ndarray | np.generic):
        arr = np.ascontiguousarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"returned an array of dtype {arr.dtype}, expected numbers")
        return {"__array__": [arr.dtype.str, list(arr.shape),
                              base64.b64encode(arr.tobytes()).decode("ascii")]}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    raise TypeError(f"returned a {type(value).__name__}, expected an array or a number")


# --- finding the student's classes -------------------------------------------------------


def defined_classes(folder: Path) -> dict[str, str]:
    """class name → module name for every top-level class in the folder's .py files.

    Parsed, not imported, so that a module is only executed when it holds a class we need.
    """
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, path.stem)
    return found


# Top-level statements kept when a script is loaded for its definitions: a task script
# or a notebook may train a network at top level, which the checks must not wait for.
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign)


def load_definitions(folder: Path, name: str):
    """The module ``name`` with only its imports, functions, classes and assignments run.

    A module already imported (e.g. a helper another module imports) is reused.
    """
    if name in sys.modules:
        return sys.modules[name]
    path = folder / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
    tree.body = [node for node in tree.body if isinstance(node, DEFINITIONS)]
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(tree, str(path), "exec"), module.__dict__)
    return module


class Registry:
    """Resolves a kind to a factory: the adapter's first, else a DLfS-style class."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.adapter = importlib.import_module(ADAPTER) if (folder / f"{ADAPTER}.py").exists() \
            else None
        self.classes = defined_classes(folder)

    def layer(self, kind: str, params: dict, config: dict):
        if self.adapter is not None and kind in getattr(self.adapter, "LAYERS", {}):
            return NativeLayer(self.adapter.LAYERS[kind](params, config))
        return DlfsLayer.create(kind, self._dlfs_class(kind, DLFS_LAYERS), params, config)

    def optimizer(self, kind: str, hyper: dict):
        if self.adapter is not None and kind in getattr(self.adapter, "OPTIMIZERS", {}):
            return self.adapter.OPTIMIZERS[kind](hyper)
        cls = self._dlfs_class(kind, DLFS_OPTIMIZERS)
        return cls(**_accepted(cls, kind, hyper))

    def import_all(self) -> None:
        """Load every module that defines a class the checks could use."""
        wanted = {n for names in (*DLFS_LAYERS.values(), *DLFS_OPTIMIZERS.values())
                  for n in names}
        for name in sorted({m for c, m in self.classes.items() if c in wanted}):
            load_definitions(self.folder, name)

    def _dlfs_class(self, kind: str, names: dict[str, tuple[str, ...]]):
        for name in names.get(kind, ()):
            if name in self.classes:
                return getattr(load_definitions(self.folder, self.classes[name]), name)
        raise NotAttempted(f"no adapter entry and no class named {' or '.join(names[kind])}")


class NotAttempted(Exception):
    """The submission has nothing for this kind."""


def _accepted(cls, kind: str, kwargs: dict) -> dict:
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


# --- uniform layer wrappers --------------------------------------------------------------


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
            args = {**p, **_accepted(klass, kind, config)}
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


# --- the request loop --------------------------------------------------------------------


class Worker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._registry: Registry | None = None
        self.layer = None
        self.optimizer = None
        self.opt_params: dict = {}

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry(self.folder)
        return self._registry

    def handle(self, req: dict) -> dict:
        op = req["op"]
        if op == "layer":
            self.layer = self.registry.layer(req["kind"], req["params"], req.get("config", {}))
            return {}
        if op == "forward":
            y = self.layer.forward(req["x"], req.get("train", False))
            if req.get("project") is not None:
                return {"dot": float(np.sum(np.asarray(y, dtype=np.float64) * req["project"]))}
            return {"y": y}
        if op == "loss":
            return {"loss": float(self.layer.loss(req["x"], req["labels"]))}
        if op == "backward":
            dx, grads = self.layer.backward(req.get("dout"))
            return {"dx": np.asarray(dx), "grads": {k: np.asarray(v) for k, v in grads.items()}}
        if op == "set_params":
            self.layer.set_params(req["params"])
            return {}
        if op == "state":
            return {"state": {k: np.asarray(v) for k, v in self.layer.state(req["names"]).items()}}
        if op == "optimizer":
            self.optimizer = self.registry.optimizer(req["kind"], req.get("hyper", {}))
            self.opt_params = {k: np.array(v) for k, v in req["params"].items()}
            return {}
        if op == "step":
            self.optimizer.update(self.opt_params, req["grads"])
            return {"params": self.opt_params}
        if op == "modules":
            self.registry.import_all()
            return {"modules": sorted(m.split(".")[0] for m in sys.modules)}
        raise ValueError(f"unknown op {op!r}")


def _error(e: BaseException) -> dict:
    frames = traceback.extract_tb(e.__traceback__)
    student = [f for f in frames if not f.filename.endswith("worker.py")]
    where = f"{Path(student[-1].filename).name}:{student[-1].lineno}" if student else ""
    return {"ok": False, "error": f"{type(e).__name__}: {e}"[:500], "where": where,
            "not_attempted": isinstance(e, NotAttempted),
            "trace": "".join(traceback.format_exception(e)[-MAX_TRACE_LINES:])}


def main() -> None:
    # The protocol keeps the real stdout; the student's prints and reads are redirected
    # so they can neither corrupt answers nor swallow requests.
    with open(os.dup(1), "w", encoding="utf-8") as channel, \
            open(os.dup(0), encoding="utf-8") as requests:
        os.dup2(2, 1)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        sys.stdout = sys.stderr
        folder = Path.cwd()
        sys.path.insert(0, str(folder))
        serve(Worker(folder), requests, channel)


def serve(worker: Worker, requests, channel) -> None:
    """Answer each request line on ``channel``; one failing request never ends the loop."""
    for line in requests:
        if not line.strip():
            continue
        try:
            answer = {"ok": True, **encode(worker.handle(decode(json.loads(line))))}
        except (Exception, SystemExit) as e:  # student code may raise anything, even exit
            answer = _error(e)
        channel.write(json.dumps(answer) + "\n")
        channel.flush()

if __name__ == "__main__":
    main()
