"""Which sources the task programs use: their imports, followed file to file, INSIDE the sandbox.

When several files define an implementation of one kind (an ``Affine`` in
``common/layers.py`` and another in an old ``layers.py``), the one the student's own
programs run is the one to grade, and first the one the training program (``task3.py``,
where layers learn) runs. The roots are the task programs at the top of the submission
(``task1.py`` … and the scripts written for ``task1.ipynb`` …); every
``import a.b`` / ``from a.b import c`` / ``from .b import c`` in a used source marks the
file it names as used, resolved as Python would for the student: from the submission's
folder, from the importing file's folder and each folder above it (the book's chapter
scripts do ``sys.path.append(os.pardir)``), relative imports from the file's package.
Nothing is run: the syntax trees are read.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

from .sources import Source

TASK_PROGRAM = re.compile(r"task\d\w*", re.IGNORECASE)
TRAINING_PROGRAM = re.compile(r"task3\w*", re.IGNORECASE)


def is_task_program(source: Source, pattern: re.Pattern = TASK_PROGRAM) -> bool:
    """A top-level ``taskN….py`` (or notebook): what the student runs for the tasks."""
    return len(source.rel.parts) == 1 and pattern.fullmatch(source.rel.stem) is not None


def used_sources(sources: list[Source], roots: re.Pattern = TASK_PROGRAM
                 ) -> set[PurePosixPath]:
    """Relative paths of the task programs (those ``roots`` names) and of every source
    they import, transitively."""
    by_rel = {s.rel: s for s in sources}
    used = {s.rel for s in sources if is_task_program(s, roots)}
    pending = list(used)
    while pending:
        source = by_rel[pending.pop()]
        for rel in _imported(source, by_rel):
            if rel not in used:
                used.add(rel)
                pending.append(rel)
    return used


def _imported(source: Source, by_rel: dict[PurePosixPath, Source]) -> set[PurePosixPath]:
    """The sources of the submission that ``source``'s import statements name."""
    found = set()
    for node in ast.walk(source.tree):
        for dotted, level in _modules(node):
            for base in _bases(source.rel, level):
                rel = _resolve(base, dotted, by_rel)
                if rel is not None:
                    found.add(rel)
                    break
    return found


def _modules(node: ast.AST) -> list[tuple[list[str], int]]:
    """(module path, relative level) of each module an import statement may load.

    ``from a import b`` names ``a`` and, as ``b`` may be a submodule, ``a.b``.
    """
    if isinstance(node, ast.Import):
        return [(a.name.split("."), 0) for a in node.names]
    if isinstance(node, ast.ImportFrom):
        module = node.module.split(".") if node.module else []
        return [(module, node.level),
                *(([*module, a.name], node.level) for a in node.names if a.name != "*")]
    return []


def _bases(rel: PurePosixPath, level: int) -> list[PurePosixPath]:
    """Folders a module is looked up from: the package's for a relative import, else the
    submission's, then the importing file's folder and each one above it."""
    folder = rel.parent
    if level > 0:
        for _ in range(level - 1):
            folder = folder.parent
        return [folder]
    above = [folder, *folder.parents]  # ends with the submission's folder, PurePosixPath()
    return [above[-1], *above[:-1]]


def _resolve(base: PurePosixPath, dotted: list[str], by_rel: dict[PurePosixPath, Source]
             ) -> PurePosixPath | None:
    if not dotted:
        init = base / "__init__.py"
        return init if init in by_rel else None
    path = base.joinpath(*dotted)
    for rel in (path.with_name(path.name + ".py"), path / "__init__.py"):
        if rel in by_rel:
            return rel
    return None
