"""Finding the student's layers and optimizers anywhere in the submission, INSIDE the sandbox.

The adapter (``le4nn_adapter.py``) is asked first. Else every source of the workspace is
searched (:mod:`.sources`: nested packages such as ``common/``, ``src/``, notebooks):
classes by their names (:data:`.names.LAYER_CLASSES`), then functions (CS231n's
``affine_forward``/``affine_backward``, DLfS's ``sigmoid``/``cross_entropy_error``, the
course's plain ``affine(x, W, b)`` …, :mod:`.functional`). Sources are parsed, not
imported; a file is loaded for its definitions only (:mod:`.loader`) when it holds a
candidate.

Among several candidates a class beats a function, a forward with its backward beats one
without, then a file the training program (``task3.py``) runs beats one only another
task program runs, which beats one no task program runs (:mod:`.imports`: the programs
and what they import, followed file to file), a shallower file a deeper one, the name
of the book a synonym, and last the path in sorting order. Candidates in different
files still equal after these file and depth rules whose code differs are not guessed
between: the kind is "not attempted" with the reason ``ambiguous`` (their places, for
the report's message, which says how an adapter chooses). Copies of one definition are
not a conflict. What was used, and from where, is recorded in :attr:`Registry.found`
for the report, with the other candidates in brackets ("common/layers.py: Affine
(layers.py: Affine)").
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import conventions, functional, regularizers
from .imports import TRAINING_PROGRAM, used_sources
from .loader import load_definitions
from .names import (
    BACKWARD_FORMS,
    BOOK_CLASSES,
    CROSS_ENTROPY_NAMES,
    DECAY,
    DECAY_FUNCTIONS,
    FORWARD_FORMS,
    LAYER_CLASSES,
    LOSS_STEMS,
    OPTIMIZER_CLASSES,
    OPTIMIZER_FORMS,
    OPTIMIZER_STEMS,
    PENALTY_FUNCTIONS,
    REGULARIZER_CLASSES,
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
MAX_OTHERS = 3  # other candidates named after the one used

__all__ = ["NotAttempted", "Registry"]


def _classes(kind: str) -> tuple[str, ...]:
    """The normalised class names of ``kind``, in order of preference."""
    return (LAYER_CLASSES.get(kind) or OPTIMIZER_CLASSES.get(kind)
            or REGULARIZER_CLASSES.get(kind, ()))


@dataclass(frozen=True)
class Definition:
    """A top-level class or function of one source."""

    source: Source
    name: str
    is_class: bool
    code: str = field(default="", compare=False)  # its syntax tree, to tell copies from rivals

    @property
    def where(self) -> str:
        return f"{self.source.rel}: {self.name}"


@dataclass
class Candidate:
    """A usable implementation of a kind: its place, preference, code and what wraps it."""

    key: tuple  # smaller is preferred; equal keys with different code are ambiguous
    definition: Definition
    code: str
    value: Any
    where: str = ""


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
                    d = Definition(source, node.name, isinstance(node, ast.ClassDef),
                                   ast.dump(node))
                    self.defs.setdefault(norm(node.name), []).append(d)
        self.used = used_sources(self.sources)
        self.trained = used_sources(self.sources, TRAINING_PROGRAM)
        self.found: dict[str, str] = {}
        self._layouts: dict[str, Any] = {}
        self._chosen: dict[str, Definition] = {}

    def _place(self, d: Definition) -> tuple[bool, bool, int]:
        """Where ``d`` is, as preferred: used by the training program (task 3), by any
        task program, then shallow."""
        rel = d.source.rel
        return (rel not in self.trained, rel not in self.used, len(rel.parts))

    # --- lookup ----------------------------------------------------------------------

    def _named(self, names: tuple[str, ...], classes: bool) -> list[Definition]:
        """Definitions whose normalised name is in ``names``: by place, then name, then path."""
        found = [(i, d) for i, n in enumerate(names) for d in self.defs.get(n, ())
                 if d.is_class == classes]
        found.sort(key=lambda c: (self._place(c[1]), c[0], str(c[1].source.rel)))
        return [d for _, d in found]

    def _object(self, d: Definition) -> Any:
        return getattr(load_definitions(self.folder, d.source), d.name, None)

    def _in_file(self, names: tuple[str, ...], source: Source) -> list[Definition]:
        return [d for d in self._named(names, False) if d.source == source]

    # --- layers ----------------------------------------------------------------------

    def layer(self, kind: str, params: dict, config: dict):
        if self.adapter is not None and kind in getattr(self.adapter, "LAYERS", {}):
            self.found[kind] = f"{ADAPTER}.py: LAYERS[{kind!r}]"
            return NativeLayer(self.adapter.LAYERS[kind](params, config))
        layer, problem = self._first_class(
            kind, LAYER_CLASSES.get(kind, ()),
            lambda klass, d: self._class_layer(kind, klass, d, params, config))
        if layer is not None:
            return layer
        built = self._function_layer(kind, params, config)
        if built is not None:
            return built
        raise NotAttempted(problem or self._not_found(kind))

    def _first_class(self, kind: str, names: tuple[str, ...],
                     build: Callable[[type, Definition], Any]) -> tuple[Any, dict | None]:
        """The object ``build`` makes from the preferred class of ``kind`` (None: none
        builds), and the reason the first one that did not build gave."""
        if kind in self._chosen:
            d = self._chosen[kind]
            return build(self._object(d), d), None
        problem, built = None, []
        for d in self._named(names, True):
            if built and self._place(d) != self._place(built[0].definition):
                break  # only the equally placed are rivals of the first that built
            klass = self._object(d)
            if not isinstance(klass, type):
                continue
            try:
                value = build(klass, d)
            except NotAttempted as e:
                problem = problem or {**e.reason, "file": str(d.source.rel)}
                continue
            if value is not None:  # None: not an implementation of the kind after all
                built.append(Candidate(self._place(d), d, d.code, value, d.where))
        if not built:
            return None, problem
        return self._use(kind, built).value, None

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
            e, back = self._first_usable(
                self._in_file(back_names, d.source),
                lambda fn, e: functional.backward_function(kind, fn, str(e.source.rel), e.name))
            candidates.append(Candidate(
                (back is None, *self._place(d)), d, d.code + (e.code if e else ""),
                (fwd, back), d.where + (f" + {e.name}" if e else "")))
        if not candidates:
            return None
        chosen = self._use(kind, candidates)
        d, (fwd, back) = chosen.definition, chosen.value
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
        return fns

    def _loss_functions(self) -> functional.LossFunctions | None:
        loss_names = forms(LOSS_STEMS, FORWARD_FORMS)
        back_names = forms(LOSS_STEMS, BACKWARD_FORMS)
        options = []  # (definition, its code and its partner's, the functions)
        for d in self._named(loss_names, False):
            fn = self._function(d, lambda fn, d=d: functional.loss_function(
                fn, str(d.source.rel), d.name))
            if fn is not None:
                options.append((d, d.code, functional.LossFunctions(loss=fn)))
        for d in self._named(SOFTMAX_NAMES, False):
            soft = self._function(d, lambda fn, d=d: functional.softmax_function(
                fn, str(d.source.rel), d.name))
            e, ce = self._first_usable(
                self._in_file(CROSS_ENTROPY_NAMES, d.source),
                lambda fn, e: functional.loss_function(fn, str(e.source.rel), e.name,
                                                       functional.CE_ROLES))
            if soft is not None and ce is not None:
                options.append((d, d.code + e.code,
                                functional.LossFunctions(softmax=soft, cross_entropy=ce)))
        candidates = []
        for d, code, fns in options:
            e, fns.backward = self._first_usable(
                self._in_file(back_names, d.source),
                lambda fn, e: functional.loss_backward_function(fn, str(e.source.rel), e.name))
            fns.backward_names = ", ".join(back_names[:3])
            names = fns.name + (f" + {e.name}" if e else "")
            candidates.append(Candidate(
                (fns.backward is None and fns.loss is None, *self._place(d)), d,
                code + (e.code if e else ""), fns, f"{d.source.rel}: {names}"))
        if not candidates:
            return None
        chosen = self._use(LOSS, candidates)
        d, fns = chosen.definition, chosen.value
        fns.labels = self._cached(f"{d.source.rel}:{LOSS}", lambda: conventions.choose_labels(
            lambda lab, a, t: functional.evaluate_loss(fns, lab, a, t)[0]))
        return fns

    # --- optimizers ------------------------------------------------------------------

    def optimizer(self, kind: str, hyper: dict):
        if self.adapter is not None and kind in getattr(self.adapter, "OPTIMIZERS", {}):
            self.found[kind] = f"{ADAPTER}.py: OPTIMIZERS[{kind!r}]"
            return self.adapter.OPTIMIZERS[kind](hyper)
        optimizer, problem = self._first_class(
            kind, OPTIMIZER_CLASSES.get(kind, ()),
            lambda klass, d: build_class_optimizer(klass, kind, hyper))
        if optimizer is not None:
            return optimizer
        candidates = [Candidate(self._place(d), d, d.code, fn, d.where)
                      for d in self._named(self._function_names(kind), False)
                      if (fn := self._function(d, lambda fn, d=d: functional.optimizer_function(
                          fn, str(d.source.rel), d.name, kind))) is not None]
        if candidates:
            return functional.FunctionOptimizer(self._use(kind, candidates).value, kind, hyper)
        raise NotAttempted(problem or self._not_found(kind))

    # --- weight decay ----------------------------------------------------------------

    def regularizer(self, kind: str, hyper: dict) -> regularizers.Decay:
        """The student's weight decay (``hyper``: ``lam`` λ, ``lr`` η for an SGD form)."""
        if self.adapter is not None and kind in getattr(self.adapter, "REGULARIZERS", {}):
            self.found[kind] = f"{ADAPTER}.py: REGULARIZERS[{kind!r}]"
            return regularizers.from_object(self.adapter.REGULARIZERS[kind](hyper), hyper)
        sgd = OPTIMIZER_CLASSES["sgd"]
        decay, problem = self._first_class(
            kind, REGULARIZER_CLASSES[kind] + sgd,
            lambda klass, d: regularizers.build_sgd(klass, hyper) if norm(d.name) in sgd
            else regularizers.build_class(klass, hyper))
        if decay is not None:
            return decay
        extra = {"lam": hyper["lam"], "lr": hyper["lr"]}
        candidates = []
        for d in self._named(DECAY_FUNCTIONS, False):
            grad = self._function(d, lambda fn: regularizers.first_callable(
                [fn], regularizers.gradient_callable, extra, True))
            if grad is None:
                continue
            e, penalty = self._first_usable(
                self._in_file(PENALTY_FUNCTIONS, d.source),
                lambda fn, e: regularizers.first_callable(
                    [fn], regularizers.penalty_callable, extra, True))
            candidates.append(Candidate(self._place(d), d, d.code + (e.code if e else ""),
                                        regularizers.Decay(grad, penalty),
                                        d.where + (f" + {e.name}" if e else "")))
        if candidates:
            return self._use(kind, candidates).value
        raise NotAttempted(problem or self._not_found(kind))

    # --- shared ----------------------------------------------------------------------

    def _function(self, d: Definition, wrap: Callable[[Callable], Any]):
        """``wrap(fn)`` for the function ``d`` once loaded, or None when it is not usable."""
        fn = self._object(d)
        return wrap(fn) if callable(fn) else None

    def _first_usable(self, defs: list[Definition], wrap: Callable[[Callable, Definition], Any]
                      ) -> tuple[Definition | None, Any]:
        """The first of ``defs`` that ``wrap`` accepts once loaded, and what it made of it."""
        for d in defs:
            value = self._function(d, lambda fn, d=d: wrap(fn, d))
            if value is not None:
                return d, value
        return None, None

    def _use(self, kind: str, candidates: list[Candidate]) -> Candidate:
        """The preferred candidate, recorded with the others in :attr:`found`.

        ``candidates`` come in order of name and path; the sort keeps it among equal keys.
        Raises NotAttempted (``ambiguous``) when one in another file with the same key has
        other code: which one the student means cannot be told.
        """
        candidates = sorted(candidates, key=lambda c: c.key)
        best = candidates[0]
        rivals = [c for c in candidates[1:] if c.key == best.key and c.code != best.code
                  and c.definition.source.rel != best.definition.source.rel]
        if rivals:
            raise NotAttempted({"why": "ambiguous", "kind": kind,
                                "candidates": [c.where for c in (best, *rivals)],
                                "classes": self._looked_for(kind)})
        if best.definition.is_class:
            self._chosen[kind] = best.definition
        others = [d.where for d in self._all_candidates(kind) if d != best.definition]
        more = ", …" if len(others) > MAX_OTHERS else ""
        self.found[kind] = best.where + (f" ({', '.join(others[:MAX_OTHERS])}{more})"
                                         if others else "")
        return best

    def _function_names(self, kind: str) -> tuple[str, ...]:
        """The normalised names of the functions that may implement ``kind`` (forwards)."""
        if kind == LOSS:
            return forms(LOSS_STEMS, FORWARD_FORMS) + SOFTMAX_NAMES
        if kind == DECAY:
            return DECAY_FUNCTIONS
        if kind in OPTIMIZER_CLASSES:
            return forms(OPTIMIZER_STEMS.get(kind, ()), OPTIMIZER_FORMS)
        return layer_functions(kind)[0] if kind in functional.FORWARD_ROLES else ()

    def _all_candidates(self, kind: str) -> list[Definition]:
        """Every class and function named like an implementation of ``kind``, in order."""
        return [*self._named(_classes(kind), True),
                *self._named(self._function_names(kind), False)]

    def _looked_for(self, kind: str) -> list[str]:
        return [BOOK_CLASSES.get(kind, kind), *_classes(kind)[1:3]]

    def _cached(self, key: str, probe: Callable[[], Any]) -> Any:
        if key not in self._layouts:
            self._layouts[key] = probe()
        return self._layouts[key]

    def _not_found(self, kind: str) -> dict[str, Any]:
        """What was looked for, for the report's message."""
        return {"why": "not_found", "kind": kind, "classes": self._looked_for(kind),
                "searched": len(self.sources),
                "skipped": [s.rel for s in self.skipped][:5]}

    def import_all(self) -> None:
        """Load every source that defines a class or function the checks could use."""
        wanted = {n for names in (*LAYER_CLASSES.values(), *OPTIMIZER_CLASSES.values(),
                                  *REGULARIZER_CLASSES.values()) for n in names}
        for kind in functional.FORWARD_ROLES:
            wanted.update(*layer_functions(kind))
        wanted.update(SOFTMAX_NAMES, CROSS_ENTROPY_NAMES, forms(LOSS_STEMS, FORWARD_FORMS))
        wanted.update(DECAY_FUNCTIONS, PENALTY_FUNCTIONS)
        for source in {d.source: None for n in sorted(wanted) for d in self.defs.get(n, ())}:
            load_definitions(self.folder, source)
