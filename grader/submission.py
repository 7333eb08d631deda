"""Find and validate a submission, and copy it into a fresh workspace for the sandbox.

A submission is a folder holding ``task1.py`` … ``task4.py`` (or ``task1.ipynb`` …).
Notebooks are turned into scripts of their code cells when the workspace is made.

The folder is read through :mod:`grader.safe_files` only: links are not followed, pipes,
sockets and devices not opened, the walk is bounded in depth and size. What the grader
leaves out is listed in :attr:`Submission.left_out` with why, so the report can say it:

- ``link``: a symbolic link (to a file or folder, inside the submission or not);
- ``special``: a named pipe, socket or device;
- ``compiled``: a compiled file (``.pyc``, ``.pyo``, an extension module ``.so``/``.pyd``)
  without its ``.py`` source. Compiled files are never copied into the workspace, with
  or without source: the grader grades source code it can read, so a module handed in
  only compiled cannot be imported by the programs (they fail, and the report says why);
- ``name``: a file name with control characters or bytes that are not UTF-8;
- ``unreadable``: the grader could not read it.

:func:`make_workspace` also writes a *snapshot*: a private copy of the code and report
files (notebooks converted) made before any program runs. Checks that read files after
the programs ran (the static scan, the rubric) read the snapshot, never the workspace the
student's programs shaped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from grader import safe_files
from grader.notebook import notebook_cells
from grader.results import Message

TASKS = ("task1", "task2", "task3", "task4")
MAX_FILES = 2000
MAX_BYTES = 100 << 20
MAX_DEPTH = safe_files.MAX_DEPTH
MAX_ENTRIES = safe_files.MAX_ENTRIES
SKIPPED_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", ".nox"}
COMPILED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")
COMPILED_REASON = "a compiled file without its .py source; compiled files are not graded"
# What checks read after the run (code, notebooks, the written report): the snapshot holds these.
SNAPSHOT_SUFFIXES = (".py", ".ipynb", ".md", ".markdown", ".html", ".htm")
# Bidirectional controls reorder how a name is shown; C0/C1 controls can forge lines.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Where Python ends a line. str.splitlines also splits at \x0c, \x1c, \u2028 …, which
# can stand inside a string literal: splitting there would break the student's code.
_LINE_END = re.compile(r"\r\n|\r|\n")


class SubmissionError(ValueError):
    """The submission folder cannot be graded at all (missing, not a folder, too big)."""


class LeftOut(NamedTuple):
    """A file of the submission the grader did not read, and why (see the module docstring)."""

    path: str
    kind: str  # link | special | compiled | name | unreadable
    reason: str  # one line in English, for logs

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind}


@dataclass
class Submission:
    """A validated submission: where it is, its files and which task programs it has."""

    root: Path
    student_id: str
    sha256: str
    files: list[Path]
    programs: dict[str, Path] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)

    def program(self, task: str) -> str | None:
        """The script name a task runs as in the workspace, or None when not attempted."""
        return f"{task}.py" if task in self.programs else None


def load(path: Path) -> Submission:
    """Validate ``path`` and list its files and task programs (``.py`` before ``.ipynb``).

    Raises SubmissionError (one line: the folder, what is wrong, what to do) for a folder
    that cannot be graded at all: missing, too deep, too many files, too large.
    """
    root = Path(path)
    if not root.exists():
        raise SubmissionError(f"{root}: no such folder — give the folder holding task1.py …")
    if not root.is_dir():
        raise SubmissionError(f"{root}: not a folder — give the folder holding task1.py …")
    root = root.resolve()  # the folder the user named, even through a link; nothing below it
    tree = safe_files.walk(root, max_depth=MAX_DEPTH, max_entries=MAX_ENTRIES,
                           skip_dirs=SKIPPED_DIRS - {"__pycache__"})
    if tree.skipped[:1] and tree.skipped[0][0] == ".":  # the folder itself cannot be listed
        raise SubmissionError(f"{root}: cannot be read ({tree.skipped[0][1]}) — check the "
                              "folder's permissions")
    if tree.too_deep:
        raise SubmissionError(f"{root}: folders nested more than {MAX_DEPTH} levels deep — "
                              "hand in a flat folder of your source files")
    if tree.truncated:
        raise SubmissionError(f"{root}: more than {MAX_ENTRIES} files and folders — hand in "
                              "the source files only (no data sets, no virtual environments)")
    files, left_out = _sort_out(tree)
    total = sum(tree.stats[PurePosixPath(rel)].st_size for rel in files)
    if len(files) > MAX_FILES or total > MAX_BYTES:
        raise SubmissionError(
            f"{root}: more than {MAX_FILES} files or {MAX_BYTES >> 20} MB — hand in the "
            "source files only (no data sets, no virtual environments)")
    sha256, unreadable = _content_hash(root, files)
    files = [rel for rel in files if rel not in unreadable]
    left_out += unreadable.values()
    return Submission(root=root, student_id=root.name, sha256=sha256, files=files,
                      programs=_programs(root, files, left_out),
                      left_out=sorted(left_out))


def _sort_out(tree: safe_files.Tree) -> tuple[list[Path], list[LeftOut]]:
    """The files to copy, and those left out with why."""
    files: list[Path] = []
    left_out = [LeftOut(_shown(rel), "compiled", COMPILED_REASON)
                for rel in compiled_only(tree.files)]
    for rel in tree.files:
        if rel.suffix in COMPILED_SUFFIXES or "__pycache__" in rel.parts[:-1]:
            continue
        elif _bad_name(rel.as_posix()):
            left_out.append(LeftOut(_shown(rel), "name",
                                    "a file name with control characters or not UTF-8"))
        else:
            files.append(Path(rel))
    for rel, reason in tree.skipped:
        if "__pycache__" not in PurePosixPath(rel).parts:
            left_out.append(LeftOut(_shown(rel), _kind(tree.stats.get(PurePosixPath(rel))),
                                    reason))
    return files, left_out


def _kind(st: os.stat_result | None) -> str:
    """How an entry the walk skipped is left out: a link, a pipe or device, or unreadable
    (it vanished, or is a folder that could not be opened)."""
    if st is None or stat.S_ISDIR(st.st_mode):
        return "unreadable"
    return "link" if stat.S_ISLNK(st.st_mode) else "special"


def _shown(rel: PurePosixPath | str) -> str:
    """A path as reports may show it: escaped when its name could forge text."""
    text = PurePosixPath(rel).as_posix()
    return ascii(text) if _bad_name(text) else text


def compiled_only(files: list[PurePosixPath]) -> list[PurePosixPath]:
    """The compiled files among ``files`` whose ``.py`` source is not among them."""
    sources = {rel for rel in files if rel.suffix == ".py"}
    return [rel for rel in files
            if rel.suffix in COMPILED_SUFFIXES and _source_of(rel) not in sources]


def _source_of(compiled: PurePosixPath) -> PurePosixPath:
    """The ``.py`` a compiled file was made from: ``__pycache__/m.cpython-312.pyc`` → ``m.py``."""
    if compiled.parent.name == "__pycache__":
        return compiled.parent.parent / f"{compiled.name.split('.')[0]}.py"
    return compiled.parent / f"{compiled.name.split('.')[0]}.py"


def _bad_name(name: str) -> bool:
    """A name that could forge lines or reorder text where it is shown, or is not UTF-8."""
    return any(unicodedata.category(c) == "Cc" or c in _BIDI or "\udc80" <= c <= "\udcff"
               for c in name)


def _content_hash(root: Path, files: list[Path]) -> tuple[str, dict[Path, LeftOut]]:
    """sha256 over names and contents (the same submission always hashes the same), and
    the files that could not be read after all (changed since they were listed)."""
    h = hashlib.sha256()
    unreadable: dict[Path, LeftOut] = {}
    for rel in files:
        content = hashlib.sha256()
        try:
            for chunk in safe_files.chunks(root, rel, MAX_BYTES):
                content.update(chunk)
        except safe_files.UnsafeFile as e:
            unreadable[rel] = LeftOut(rel.as_posix(), "unreadable", str(e))
            continue
        h.update(rel.as_posix().encode() + b"\0")
        h.update(content.digest())
    return h.hexdigest(), unreadable


def _programs(root: Path, files: list[Path], left_out: list[LeftOut]) -> dict[str, Path]:
    """Each task's program file: a readable one first, else one left out (so that its
    checks say why rather than "not attempted")."""
    present = {rel.as_posix() for rel in files}
    refused = {lo.path for lo in left_out if lo.kind != "compiled"}
    programs = {}
    for task in TASKS:
        names = [f"{task}{suffix}" for suffix in (".py", ".ipynb")]
        chosen = next((n for n in names if n in present), None) or \
            next((n for n in names if n in refused), None)
        if chosen is not None:
            programs[task] = root / chosen
    return programs


def left_out_message(left_out: list[LeftOut], shown: int = 10) -> Message:
    """One message for files the grader left out, by kind when they share one
    (``report_templates/i18n/safereads.toml``); at most ``shown`` of them named."""
    kinds = {lo.kind for lo in left_out}
    key = f"files.{kinds.pop()}" if len(kinds) == 1 else "files.several"
    names = [lo.path for lo in left_out[:shown]] + (["…"] if len(left_out) > shown else [])
    return Message(key, {"files": ", ".join(names)})


def make_workspace(sub: Submission, workspace: Path,
                   snapshot: Path | None = None) -> dict[str, Message]:
    """Copy the submission into ``workspace`` and write scripts for its notebooks.

    ``snapshot``, when given, receives the same code and report files (see the module
    docstring): the grader's own copy, which no program ever sees.

    Returns
    -------
    problems : task → why its program cannot run (a notebook that could not be
        converted, a program file the grader left out)
    """
    targets = [workspace, *([snapshot] if snapshot is not None else [])]
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
    for rel in sub.files:
        _copy(sub.root, rel, targets if rel.suffix in SNAPSHOT_SUFFIXES else targets[:1])
    problems = {}
    left_out = {lo.path: lo for lo in sub.left_out}
    for task, source in sub.programs.items():
        if source.name in left_out:
            problems[task] = left_out_message([left_out[source.name]])
        elif source.suffix == ".ipynb":
            try:
                _write_all(targets, f"{task}.py", notebook_to_script(source))
            except ValueError as e:
                reason = str(e).removeprefix(f"{source}: ").splitlines()[0][:200]
                problems[task] = Message("check.notebook_invalid",
                                         {"reason": f"{source.name}: {reason}"})
    _scripts_for_other_notebooks(sub, targets)
    return problems


def _copy(root: Path, rel: Path, targets: list[Path]) -> None:
    """Stream ``root/rel`` (read safely) into ``target/rel`` for every target."""
    outs = []
    try:
        for target in targets:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            outs.append((target / rel).open("wb"))
        for chunk in safe_files.chunks(root, rel, MAX_BYTES):
            for out in outs:
                out.write(chunk)
    finally:
        for out in outs:
            out.close()


def _write_all(targets: list[Path], name: str, text: str) -> None:
    for target in targets:
        (target / name).write_text(text, "utf-8")


def _scripts_for_other_notebooks(sub: Submission, targets: list[Path]) -> None:
    """A script beside every other top-level notebook, so its classes can be checked.

    A notebook that cannot be read is left as it is: the checks that would have used its
    classes report them as not attempted.
    """
    for rel in sub.files:
        script = rel.with_suffix(".py")
        if rel.suffix != ".ipynb" or len(rel.parts) > 1 or (targets[0] / script).exists():
            continue
        with contextlib.suppress(ValueError):
            _write_all(targets, script.name, notebook_to_script(sub.root / rel))


def notebook_to_script(path: Path) -> str:
    """The code cells of a notebook as one script; IPython magics and shell lines commented.

    Raises ValueError (one line: the path, then the reason) for a file that is not a
    readable notebook (a link is not followed). nbformat does not enforce its schema on
    reading, so the sources are checked here.
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
