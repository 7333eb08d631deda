"""Find and validate a submission, and copy it into a fresh workspace for the sandbox.

A submission is a folder holding ``task1.py`` … ``task4.py`` (or ``task1.ipynb`` …).
Notebooks are turned into scripts of their code cells when the workspace is made.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from grader.notebook import notebook_cells

TASKS = ("task1", "task2", "task3", "task4")
MAX_FILES = 2000
MAX_BYTES = 100 << 20
SKIPPED_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", ".nox"}
# Where Python ends a line. str.splitlines also splits at \x0c, \x1c, \u2028 …, which
# can stand inside a string literal: splitting there would break the student's code.
_LINE_END = re.compile(r"\r\n|\r|\n")


class SubmissionError(ValueError):
    """The submission folder cannot be graded at all (missing, not a folder, too big)."""


@dataclass
class Submission:
    """A validated submission: where it is and which task programs it has."""

    root: Path
    student_id: str
    sha256: str
    files: list[Path]
    programs: dict[str, Path] = field(default_factory=dict)

    def program(self, task: str) -> str | None:
        """The script name a task runs as in the workspace, or None when not attempted."""
        return f"{task}.py" if task in self.programs else None


def load(path: Path) -> Submission:
    """Validate ``path`` and list its task programs (``.py`` preferred over ``.ipynb``)."""
    root = Path(path)
    if not root.exists():
        raise SubmissionError(f"{root}: no such folder — give the folder holding task1.py …")
    if not root.is_dir():
        raise SubmissionError(f"{root}: not a folder — give the folder holding task1.py …")
    files = _list_files(root)
    programs = {}
    for task in TASKS:
        for suffix in (".py", ".ipynb"):
            if (root / f"{task}{suffix}").is_file():
                programs[task] = root / f"{task}{suffix}"
                break
    return Submission(root=root.resolve(), student_id=root.resolve().name,
                      sha256=_content_hash(root, files), files=files, programs=programs)


def _list_files(root: Path) -> list[Path]:
    files, total = [], 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIPPED_DIRS for part in rel.parts) or path.is_symlink():
            continue
        if path.is_file():
            files.append(rel)
            total += path.stat().st_size
        if len(files) > MAX_FILES or total > MAX_BYTES:
            raise SubmissionError(
                f"{root}: more than {MAX_FILES} files or {MAX_BYTES >> 20} MB — hand in the "
                "source files only (no data sets, no virtual environments)"
            )
    return files


def _content_hash(root: Path, files: list[Path]) -> str:
    """sha256 over names and contents, so the same submission always hashes the same."""
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.as_posix().encode() + b"\0")
        h.update(hashlib.sha256((root / rel).read_bytes()).digest())
    return h.hexdigest()


def make_workspace(sub: Submission, workspace: Path) -> dict[str, str]:
    """Copy the submission into ``workspace`` and write scripts for its notebooks.

    Returns
    -------
    problems : task → a short reason, for notebooks that could not be converted
    """
    workspace.mkdir(parents=True, exist_ok=True)
    for rel in sub.files:
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sub.root / rel, target)
    problems = {}
    for task, source in sub.programs.items():
        if source.suffix == ".ipynb":
            try:
                (workspace / f"{task}.py").write_text(notebook_to_script(source), "utf-8")
            except (ValueError, OSError) as e:
                reason = str(e).removeprefix(f"{source}: ").splitlines()[0][:200]
                problems[task] = f"{source.name}: {reason}"
    _scripts_for_other_notebooks(sub, workspace)
    return problems


def _scripts_for_other_notebooks(sub: Submission, workspace: Path) -> None:
    """A script beside every other top-level notebook, so its classes can be checked.

    A notebook that cannot be read is left as it is: the checks that would have used its
    classes report them as not attempted.
    """
    for rel in sub.files:
        script = workspace / rel.with_suffix(".py")
        if rel.suffix != ".ipynb" or len(rel.parts) > 1 or script.exists():
            continue
        with contextlib.suppress(ValueError, OSError):
            script.write_text(notebook_to_script(sub.root / rel), "utf-8")


def notebook_to_script(path: Path) -> str:
    """The code cells of a notebook as one script; IPython magics and shell lines commented.

    Raises ValueError (one line: the path, then the reason) for a file that is not a
    readable notebook. nbformat does not enforce its schema on reading, so the sources are
    checked here.
    """
    try:
        cells = notebook_cells(path)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    scripts = []
    for number, cell in enumerate(cells, 1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ValueError(f"{path}: not a valid notebook (cell {number}: the source of a "
                             "code cell must be text)")
        scripts.append(_comment_magics(source))
    return "\n\n".join(scripts) + "\n"


def _comment_magics(source: str) -> str:
    """``source`` with IPython magic (``%``) and shell (``!``) lines commented out."""
    return "\n".join(f"# {line}" if line.lstrip().startswith(("%", "!")) else line
                     for line in _LINE_END.split(source))
