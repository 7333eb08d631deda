"""Loading a student's source for its definitions only, with its own imports working.

A task script or a chapter script of "Deep Learning from Scratch" trains a network at
top level; the checks must not wait for that. So only imports, functions, classes and
assignments are run (and ``if``/``try`` blocks made of those, e.g. ``try: import cupy as
np except ImportError: import numpy as np``), one statement at a time: a statement that
fails (an assignment that loads a missing file) is left out and the rest still defines
its names. Assignments that call a function or class of the module itself are left out
too: they are how a script trains or loads data at top level (``params = train(...)``).

A file inside a package (``common/layers.py`` beside ``common/__init__.py``) is loaded
as ``common.layers``, so its relative and absolute imports (``from common.functions
import *``, ``from .util import im2col``) work as they do for the student's programs;
its folder and every folder above it, up to the submission's, are on ``sys.path``
(chapter scripts of the book do ``sys.path.append(os.pardir)`` for the same reason).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types
from pathlib import Path

from .sources import Source, is_regular

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign)


def module_name(folder: Path, source: Source) -> tuple[str, str | None]:
    """The dotted name ``source`` is imported as, and its package (None: not in one).

    The package is the unbroken chain of folders with an ``__init__.py`` above the file;
    a file with relative imports in folders without one is in a namespace package, named
    from the submission's folder down.
    """
    parts = list(source.rel.with_suffix("").parts)
    if source.notebook:
        return "_".join(["le4nn_notebook", *parts]), None
    first = len(parts) - 1
    while first > 0 and is_regular(folder.joinpath(*parts[:first], "__init__.py")):
        first -= 1
    if first > 0 and _relative_imports(source.tree):
        first = 0
    if parts[-1] == "__init__":
        parts = parts[:-1]
    name = ".".join(parts[first:]) or "le4nn_source___init__"
    return name, name.rpartition(".")[0] or None


def search_path(folder: Path, source: Source) -> list[str]:
    """Folders the source's imports are resolved from: its own, then each one above it."""
    here = source.path.parent
    chain = [here, *here.parents]
    return [str(p) for p in chain[: len(source.rel.parts)]]


def load_definitions(folder: Path, source: Source) -> types.ModuleType:
    """The module of ``source`` with only its definitions run (see the module docstring).

    A module already imported from the same file (e.g. ``common.layers``, which a task
    script imported) is reused, so its classes are the ones the student's code uses.
    """
    name, package = module_name(folder, source)
    existing = sys.modules.get(name)
    if existing is not None and _same_file(existing, source.path):
        return existing
    for path in reversed(search_path(folder, source)):
        if path not in sys.path:
            sys.path.insert(1, path)
    if source.rel.name == "__init__.py" and existing is None and not name.startswith("le4nn_"):
        return importlib.import_module(name)  # a package runs its __init__ on any import
    if package is not None and (existing is not None
                                or not _import_package(package, source.path.parent)):
        package = None
    if package is None and (existing is not None or "." in name):
        # not importable under its own name (or another file has it): a private one
        name = f"le4nn_source_{len(sys.modules)}_{source.path.stem}"
    spec = importlib.util.spec_from_file_location(name, source.path)
    if spec is None:  # a notebook: no import machinery knows .ipynb
        module = types.ModuleType(name)
        module.__file__ = str(source.path)
    else:
        module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if package is not None:
        setattr(sys.modules[package], name.rpartition(".")[2], module)
    run_definitions(source.tree, str(source.path), module.__dict__)
    return module


def run_definitions(tree: ast.Module, filename: str, namespace: dict) -> None:
    """Run the definition statements of ``tree`` in ``namespace``, each on its own."""
    local = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    for node in definitions(tree.body, local):
        code = compile(ast.Module([node], type_ignores=[]), filename, "exec")
        try:
            exec(code, namespace)
        except (Exception, SystemExit):  # the student's module may raise anything, even exit
            continue


def definitions(body: list[ast.stmt], local: set[str]) -> list[ast.stmt]:
    """The statements of ``body`` that only define names (see the module docstring)."""
    kept = []
    for node in body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            if node.value is None or not _calls(node.value, local):
                kept.append(node)
        elif isinstance(node, DEFINITIONS) or _definition_block(node, local):
            kept.append(node)
    return kept


def _definition_block(node: ast.stmt, local: set[str]) -> bool:
    """An ``if`` (not the main guard) or ``try`` made only of definitions."""
    if isinstance(node, ast.If):
        return not _is_main_guard(node.test) and _only_definitions(node.body + node.orelse,
                                                                   local)
    if isinstance(node, ast.Try):
        handlers = [s for h in node.handlers for s in h.body]
        return _only_definitions(node.body + handlers + node.orelse, local)
    return False


def _only_definitions(body: list[ast.stmt], local: set[str]) -> bool:
    return all(isinstance(s, ast.Pass) or s in definitions([s], local) for s in body)


def _calls(value: ast.expr, local: set[str]) -> bool:
    """Whether ``value`` calls one of the module's own functions or classes."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in local
               for n in ast.walk(value))


def _is_main_guard(test: ast.expr) -> bool:
    return "__name__" in {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}


def _relative_imports(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in ast.walk(tree))


def _same_file(module: types.ModuleType, path: Path) -> bool:
    file = getattr(module, "__file__", None)
    try:
        return file is not None and Path(file).resolve() == path.resolve()
    except (OSError, TypeError, ValueError):
        return False


def _import_package(package: str, where: Path) -> bool:
    """Import ``package`` (running its ``__init__.py``, as any import of it would).

    False when it cannot be imported or a package of that name elsewhere (the standard
    library's ``test``, say) was found instead of the student's folder ``where``.
    """
    try:
        found = importlib.import_module(package)
    except (Exception, SystemExit):
        return False
    return str(where) in list(getattr(found, "__path__", []))
