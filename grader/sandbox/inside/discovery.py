"""Finding the student's layers and optimizers anywhere in the submission, INSIDE the sandbox.

The adapter (``le4nn_adapter.py``) is asked first. Else every source of the workspace is
searched (:mod:`.sources`: nested packages such as ``common/``, ``src/``, notebooks):
classes by their names (:data:`.names.LAYER_CLASSES`), then functions (CS231n's
``affine_forward``/``affine_backward``, DLfS's ``sigmoid``/``cross_entropy_error``, the
course's plain ``affine(x, W, b)`` …, :mod:`.functional`). Sources are parsed, not
imported; a file is loaded for its definitions only (:mod:`.loader`) when it holds a
candidate. Among several candidates a class beats a function, a forward with its
backward beats one without, a shallower file beats a deeper one. What was used, and
from where, is recorded in :attr:`Registry.found` for the report.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import conventions, functional
from .loader import load_definitions
from .names import (
    BACKWARD_FORMS,
    BOOK_CLASSES,
    CROSS_ENTROPY_NAMES,
    FORWARD_FORMS,
    LAYER_CLASSES,
    LOSS_STEMS,
    OPTIMIZER_CLASSES,
    OPTIMIZER_FORMS,
    OPTIMIZER_STEMS,
    SOFTMAX_NAMES,
    forms,
    layer_functions,
    norm,
)
from .sources import Source, is_regular, read_sources
from .wrappers import (
    NativeLayer,
    NotAttempted,
    build_class_layer,
    build_class_optimizer,
)

ADAPTER = "le4nn_adapter"
LOSS = "softmax_cross_entropy"

__all__ = ["NotAttempted", "Registry"]


@dataclass(frozen=True)
class Definition:
    """A top-level class or function of one source."""

    source: Source
    name: str
    is_class: bool

    @property
    def where(self) -> str:
        return f"{self.source.rel}: {self.name}"


def _rank(d: Definition) -> tuple:
    return (len(d.source.rel.parts), str(d.source.rel))


class Registry:
    """Resolves a kind to the student's implementation, remembering what it used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.adapter = importlib.import_module(ADAPTER) \
            if is_regular(folder / f"{ADAPTER}.py") else None
        self.sources, self.skipped = read_sources(folder)
        self.defs: dict[str, list[Definition]] = {}
        for source in self.sources:
            for node in source.tree.body:
                if isinstance(node, ast.ClassDef | ast.FunctionDef):
                    d = Definition(source, node.name, isinstance(node, ast.ClassDef))
                    self.defs.setdefault(norm(node.name), []).append(d)
        for found in self.defs.values():
            found.sort(key=_rank)
        self.found: dict[str, str] = {}
        self._layouts: dict[str, Any] = {}

    # --- lookup ----------------------------------------------------------------------

    def _named(self, names: tuple[str, ...], classes: bool) -> list[Definition]:
        """Definitions whose normalised name is in ``names``, by preference of name."""
        return [d for n in names for d in self.defs.get(n, ()) if d.is_class == classes]

    def _object(self, d: Definition) -> Any:
        return getattr(load_definitions(self.folder, d.source), d.name, None)

    def _in_file(self, names: tuple[str, ...], source: Source) -> list[Definition]:
        return [d for d in self._named(names, False) if d.source == source]

    # --- layers ----------------------------------------------------------------------

    def layer(self, kind: str, params: dict, config: dict):
        if self.adapter is not None and kind in getattr(self.adapter, "LAYERS", {}):
            self.found[kind] = f"{ADAPTER}.py: LAYERS[{kind!r}]"
            return NativeLayer(self.adapter.LAYERS[kind](params, config))
        problem = None
        for d in self._named(LAYER_CLASSES.get(kind, ()), True):
            klass = self._object(d)
            if not isinstance(klass, type):
                continue
            try:
                layer = self._class_layer(kind, klass, d, params, config)
            except NotAttempted as e:
                problem = problem or {**e.reason, "file": str(d.source.rel)}
                continue
            self.found[kind] = d.where
            return layer
        built = self._function_layer(kind, params, config)
        if built is not None:
            return built
        raise NotAttempted(problem or self._not_found(kind))

    def _class_layer(self, kind: str, klass: type, d: Definition, params: dict, config: dict):
        layout, labels, keeps = self._layouts.get(d.where, (conventions.COURSE,
                                                             conventions.INTEGER_LABELS, False))
        if d.where not in self._layouts:
            if kind == "affine":
                layout = conventions.choose_layout(
                    lambda lay, x, w, b: build_class_layer(klass, kind, {"W": w, "b": b}, {},
                                                           lay).forward(x, False))
            if kind == LOSS:
                labels = conventions.choose_labels(
                    lambda lab, a, t: build_class_layer(klass, kind, {}, {}, labels=lab)
                    .loss(a, t))
            if kind == "dropout":
                keeps = conventions.keeps_share(
                    lambda r, x: build_class_layer(klass, kind, {}, {"ratio": r})
                    .forward(x, True), 0.2)
            self._layouts[d.where] = (layout, labels, keeps)
        return build_class_layer(klass, kind, params, config, layout, labels, keeps)

    def _function_layer(self, kind: str, params: dict, config: dict):
        if kind == LOSS:
            fns = self._loss_functions()
            return None if fns is None else functional.FunctionLoss(fns)
        if kind not in functional.FORWARD_ROLES:
            return None
        fns = self._layer_functions(kind)
        return None if fns is None else functional.FunctionLayer(fns, params, config)

    def _layer_functions(self, kind: str) -> functional.LayerFunctions | None:
        """The best forward of ``kind`` (with its backward from the same file when there is one)."""
        fwd_names, back_names = layer_functions(kind)
        looked_for = ", ".join(back_names[:3])
        candidates = []
        for d in self._named(fwd_names, False):
            fwd = self._function(d, lambda fn, d=d: functional.forward_function(
                kind, fn, str(d.source.rel), d.name))
            if fwd is None:
                continue
            back = next((b for b in (self._function(e, lambda fn, e=e: functional
                                                     .backward_function(kind, fn,
                                                                        str(e.source.rel),
                                                                        e.name))
                                     for e in self._in_file(back_names, d.source))
                         if b is not None), None)
            candidates.append((back is None, d, fwd, back))
        if not candidates:
            return None
        _, d, fwd, back = min(candidates, key=lambda c: (c[0], _rank(c[1])))
        fns = functional.LayerFunctions(kind, fwd, back, looked_for)
        if kind == "affine":
            fns.layout = self._cached(d.where, lambda: conventions.choose_layout(
                lambda lay, x, w, b: functional.FunctionLayer(
                    functional.LayerFunctions(kind, fwd, back, looked_for, lay),
                    {"W": w, "b": b}, {}).forward(x, False)))
        if kind == "dropout":
            fns.keeps = self._cached(d.where, lambda: conventions.keeps_share(
                lambda r, x: functional.FunctionLayer(functional.LayerFunctions(
                    kind, fwd, back), {}, {"ratio": r}).forward(x, True), 0.2))
        self.found[kind] = d.where + (f" + {back.name}" if back else "")
        return fns

    def _loss_functions(self) -> functional.LossFunctions | None:
        loss_names = forms(LOSS_STEMS, FORWARD_FORMS)
        back_names = forms(LOSS_STEMS, BACKWARD_FORMS)
        options = []
        for d in self._named(loss_names, False):
            fn = self._function(d, lambda fn, d=d: functional.loss_function(
                fn, str(d.source.rel), d.name))
            if fn is not None:
                options.append((d, functional.LossFunctions(loss=fn)))
        for d in self._named(SOFTMAX_NAMES, False):
            soft = self._function(d, lambda fn, d=d: functional.softmax_function(
                fn, str(d.source.rel), d.name))
            ce = next((f for f in (self._function(e, lambda fn, e=e: functional.loss_function(
                fn, str(e.source.rel), e.name, functional.CE_ROLES))
                for e in self._in_file(CROSS_ENTROPY_NAMES, d.source)) if f is not None), None)
            if soft is not None and ce is not None:
                options.append((d, functional.LossFunctions(softmax=soft, cross_entropy=ce)))
        candidates = []
        for d, fns in options:
            fns.backward = next((b for b in (self._function(e, lambda fn, e=e: functional
                                                            .loss_backward_function(
                                                                fn, str(e.source.rel), e.name))
                                             for e in self._in_file(back_names, d.source))
                                 if b is not None), None)
            fns.backward_names = ", ".join(back_names[:3])
            candidates.append((fns.backward is None and fns.loss is None, _rank(d), d, fns))
        if not candidates:
            return None
        *_, d, fns = min(candidates, key=lambda c: c[:2])
        fns.labels = self._cached(f"{d.source.rel}:{LOSS}", lambda: conventions.choose_labels(
            lambda lab, a, t: functional.evaluate_loss(fns, lab, a, t)[0]))
        names = fns.name + (f" + {fns.backward.name}" if fns.backward else "")
        self.found[LOSS] = f"{d.source.rel}: {names}"
        return fns

    # --- optimizers ------------------------------------------------------------------

    def optimizer(self, kind: str, hyper: dict):
        if self.adapter is not None and kind in getattr(self.adapter, "OPTIMIZERS", {}):
            self.found[kind] = f"{ADAPTER}.py: OPTIMIZERS[{kind!r}]"
            return self.adapter.OPTIMIZERS[kind](hyper)
        problem = None
        for d in self._named(OPTIMIZER_CLASSES.get(kind, ()), True):
            klass = self._object(d)
            if not isinstance(klass, type):
                continue
            try:
                optimizer = build_class_optimizer(klass, kind, hyper)
            except NotAttempted as e:
                problem = problem or {**e.reason, "file": str(d.source.rel)}
                continue
            self.found[kind] = d.where
            return optimizer
        for d in self._named(forms(OPTIMIZER_STEMS.get(kind, ()), OPTIMIZER_FORMS), False):
            fn = self._function(d, lambda fn, d=d: functional.optimizer_function(
                fn, str(d.source.rel), d.name, kind))
            if fn is not None:
                self.found[kind] = d.where
                return functional.FunctionOptimizer(fn, kind, hyper)
        raise NotAttempted(problem or self._not_found(kind))

    # --- shared ----------------------------------------------------------------------

    def _function(self, d: Definition, wrap: Callable[[Callable], Any]):
        """``wrap(fn)`` for the function ``d`` once loaded, or None when it is not usable."""
        fn = self._object(d)
        return wrap(fn) if callable(fn) else None

    def _cached(self, key: str, probe: Callable[[], Any]) -> Any:
        if key not in self._layouts:
            self._layouts[key] = probe()
        return self._layouts[key]

    def _not_found(self, kind: str) -> dict[str, Any]:
        """What was looked for, for the report's message."""
        classes = LAYER_CLASSES.get(kind) or OPTIMIZER_CLASSES.get(kind, ())
        return {"why": "not_found", "kind": kind,
                "classes": [BOOK_CLASSES.get(kind, kind), *classes[1:3]],
                "searched": len(self.sources),
                "skipped": [s.rel for s in self.skipped][:5]}

    def import_all(self) -> None:
        """Load every source that defines a class or function the checks could use."""
        wanted = {n for names in (*LAYER_CLASSES.values(), *OPTIMIZER_CLASSES.values())
                  for n in names}
        for kind in functional.FORWARD_ROLES:
            wanted.update(*layer_functions(kind))
        wanted.update(SOFTMAX_NAMES, CROSS_ENTROPY_NAMES, forms(LOSS_STEMS, FORWARD_FORMS))
        for source in {d.source: None for n in sorted(wanted) for d in self.defs.get(n, ())}:
            load_definitions(self.folder, source)
