"""The submission's Python sources, read INSIDE the sandbox: every .py file and notebook.

The whole workspace is searched, nested folders included (``common/``, ``src/``,
``ch05/`` …). Only regular files are opened, never followed links, FIFOs or devices: a
student program may have left a FIFO named ``zz_helper.py`` behind, and opening it
must not block the worker (``os.lstat`` first, then ``O_NONBLOCK | O_NOFOLLOW`` and a
second look at what was opened).
"""

from __future__ import annotations

import ast
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .notebooks import notebook_code

SKIPPED_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "env", ".nox",
                ".tox", "site-packages", "node_modules", "build", "dist"}
SUFFIXES = (".py", ".ipynb")
MAX_DEPTH = 8
MAX_FILES = 500
MAX_BYTES = 2 << 20  # a larger source is generated or data, not a student's layers


@dataclass(frozen=True)
class Source:
    """One parsed source file: where it is (relative, posix) and its syntax tree."""

    rel: PurePosixPath
    path: Path
    tree: ast.Module

    @property
    def notebook(self) -> bool:
        return self.rel.suffix == ".ipynb"


@dataclass(frozen=True)
class Skipped:
    """A source that could not be read or parsed, and why (``syntax`` with its line)."""

    rel: str
    reason: str
    line: int | None = None


def is_regular(path: Path) -> bool:
    """Whether ``path`` is a regular file itself (not a link to one)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes, else None."""
    if not is_regular(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)[:limit]
    except OSError:
        return None
    finally:
        os.close(fd)


def source_files(folder: Path) -> list[PurePosixPath]:
    """Relative paths of the .py and .ipynb files under ``folder``, shallow first, sorted."""
    found: list[PurePosixPath] = []
    pending = [(folder, PurePosixPath())]
    while pending and len(found) < MAX_FILES:
        here, rel = pending.pop(0)
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRS and not entry.name.startswith(".") \
                        and len(rel.parts) < MAX_DEPTH:
                    pending.append((Path(entry.path), rel / entry.name))
            elif entry.name.endswith(SUFFIXES) and entry.is_file(follow_symlinks=False):
                found.append(rel / entry.name)
    return found[:MAX_FILES]


def read_sources(folder: Path) -> tuple[list[Source], list[Skipped]]:
    """Every source of ``folder`` parsed, and those that could not be.

    A notebook with a script of the same name beside it (the grader writes one for each
    top-level notebook) is read through that script only.
    """
    rels = source_files(folder)
    present = set(rels)
    sources, skipped = [], []
    for rel in rels:
        if rel.suffix == ".ipynb" and rel.with_suffix(".py") in present:
            continue
        raw = read_regular(folder / rel)
        if raw is None:
            skipped.append(Skipped(str(rel), "unreadable"))
            continue
        try:
            code: str | bytes = notebook_code(raw) if rel.suffix == ".ipynb" else raw
            tree = ast.parse(code, str(rel))
        except SyntaxError as e:
            skipped.append(Skipped(str(rel), "syntax", e.lineno))
            continue
        except (ValueError, RecursionError, MemoryError):
            skipped.append(Skipped(str(rel), "unreadable"))
            continue
        sources.append(Source(rel, folder / rel, tree))
    return sources, skipped
