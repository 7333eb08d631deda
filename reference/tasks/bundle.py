"""Build a submission that hands in the parts of the reference library it uses.

The student's Python in the sandbox cannot import the grader's ``reference`` package (it
is the answer key), so a submission built on it — ``submissions/reference``, the known-bad
examples, the framework reference — must hand in what it uses, as a student would hand
in their own modules::

    python -m reference.tasks.bundle SUBMISSION OUT

copies ``SUBMISSION`` to ``OUT`` and adds ``OUT/reference/…``: every module of the
library that the submission's Python files import, followed through the library's own
imports (nothing else: not the torch adapter unless a file asks for it).
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

import reference

PACKAGE = "reference"
LIBRARY = Path(reference.__file__).resolve().parent


def bundle(submission: Path, out: Path) -> list[str]:
    """Copy ``submission`` to ``out`` with the library modules it needs; their paths."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(submission, out, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    needed = sorted(closure(sorted(out.rglob("*.py"))))
    for module in needed:
        target = out / module.relative_to(LIBRARY.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(module, target)
    return [m.relative_to(LIBRARY.parent).as_posix() for m in needed]


def closure(files: list[Path]) -> set[Path]:
    """The library's module files that ``files`` import, directly or through the library."""
    found: set[Path] = set()
    todo = list(files)
    while todo:
        path = todo.pop()
        for module in _imported(path):
            for file in _files_of(module):
                if file not in found:
                    found.add(file)
                    todo.append(file)
    return found


def _imported(path: Path) -> set[str]:
    """Dotted names of the library's modules (or names in them) that ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    here = _module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and here is not None:
                package = here if path.name == "__init__.py" else here.rpartition(".")[0]
                parts = package.split(".")
                parent = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            names |= {f"{base}.{a.name}" for a in node.names} | {base}
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def _module_name(path: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(LIBRARY.parent)
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _files_of(dotted: str) -> list[Path]:
    """The package ``__init__`` files on the way to ``dotted`` and its own file, if any."""
    files = []
    folder = LIBRARY.parent
    for part in dotted.split("."):
        folder = folder / part
        if (folder / "__init__.py").is_file():
            files.append(folder / "__init__.py")
        elif folder.with_suffix(".py").is_file():
            files.append(folder.with_suffix(".py"))
            break
        else:
            break
    return files


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m reference.tasks.bundle",
                                description=__doc__.splitlines()[0])
    p.add_argument("submission", type=Path, help="a submission that imports reference")
    p.add_argument("out", type=Path, help="folder to write (replaced if it exists)")
    args = p.parse_args(argv)
    if not args.submission.is_dir():
        print(f"error: {args.submission}: no such folder", file=sys.stderr)
        return 2
    modules = bundle(args.submission, args.out)
    print(f"wrote {args.out} with {len(modules)} modules of the reference library")
    return 0


if __name__ == "__main__":
    sys.exit(main())
