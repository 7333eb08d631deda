"""Finding the student's layer and optimizer classes: the adapter first, else DLfS names.

Modules are parsed, not imported, to see which classes they define; a module is executed
(for its definitions only) when it holds a class a check needs.
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from pathlib import Path

from .wrappers import DlfsLayer, NativeLayer, accepted_kwargs

ADAPTER = "le4nn_adapter"

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
        return cls(**accepted_kwargs(cls, kind, hyper))

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
