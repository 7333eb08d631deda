"""The import guard: blocks and records forbidden libraries in a student process.

Runs INSIDE the sandbox, first thing in every student process (the boot installs it;
as ``sitecustomize`` it also arms Python child processes that keep the environment).
Standard library only, and cheap: it is in the start-up time of every program run.

Two layers, so that removing one does not open the door:

- a ``sys.meta_path`` finder that refuses the banned names (also ``importlib.util.find_spec``);
- an audit hook (``sys.addaudithook``; it cannot be removed) that refuses the ``import``
  event of a banned module however the import was asked for (``import``, ``__import__``,
  ``importlib.import_module``, ``imp``, ``runpy``, unpickling — which also raises
  ``pickle.find_class``), the ``open`` of a file inside a banned package folder
  (loading by path with ``spec_from_file_location``, reading its sources to ``exec``
  them) and ``ctypes.dlopen`` of a library inside one.

Out of reach, and not attempted: code that patches the interpreter's memory through
ctypes to drop the hook. The sandbox does not show the banned packages at all (see
``grader/sandbox/student_env.py``); the guard is what names the line that asked.

Each refusal is written, as one JSON line ``{"module", "how", "file", "line",
"student"}``, to the file descriptor ``$LE4NN_GUARD_FD``; ``student`` is false when the
nearest code that asked is an allowed library probing an optional dependency (the
student's line is still named when one is on the stack). Configuration:
``$LE4NN_GUARD_BANNED`` (comma-separated top-level names).
"""

from __future__ import annotations

import itertools
import json
import os
import sys

BANNED_ENV = "LE4NN_GUARD_BANNED"
FD_ENV = "LE4NN_GUARD_FD"
MAX_RECORDS = 50

_installed = False


class Guard:
    """The banned names, where to record, and what counts as the student's code."""

    def __init__(self, banned: frozenset[str], fd: int | None, workspace: str) -> None:
        self.banned, self.fd = banned, fd
        self.workspace = workspace.rstrip("/") + "/"
        self.seen: set[tuple] = set()
        # Frames of these files are machinery, never the one who asked: the standard
        # library and, when this is the grader's in-sandbox package, its workers.
        folders = [getattr(sys, "_stdlib_dir", None) or os.path.dirname(os.__file__)]
        if __name__ != "sitecustomize":
            folders.append(os.path.dirname(os.path.abspath(__file__)))
        self.machinery = tuple(p.rstrip("/") + "/" for p in folders)
        self.own_file = os.path.abspath(__file__)
        self._write, self._dumps = os.write, json.dumps

    def is_banned(self, name: object) -> bool:
        return isinstance(name, str) and name.partition(".")[0] in self.banned

    def path_is_banned(self, path: object) -> bool:
        """Whether ``path`` lies in a banned package folder of some site-packages."""
        try:
            text = os.fsdecode(path)
        except TypeError:
            return False  # a file descriptor
        parts = text.split("/")
        for before, part in itertools.pairwise(parts):
            stem = part.replace("-", ".").split(".")[0]
            if before.endswith("-packages") and stem in self.banned:
                return True
        return False

    def refuse(self, module: str, how: str) -> None:
        """Record the attempt, then raise the error the caller sees."""
        self.record(module.partition(".")[0], how)
        text = (f"le4nn-grader: {module!r} may not be used in this task (the course bans "
                "it); the attempt is recorded")
        if how in ("open", "ctypes"):
            raise PermissionError(text)
        raise ModuleNotFoundError(text, name=module)

    def record(self, module: str, how: str) -> None:
        student, where, line = self._asker(sys._getframe(1))
        key = (module, how, where, line)
        if key in self.seen or len(self.seen) >= MAX_RECORDS or self.fd is None:
            self.seen.add(key)
            return
        self.seen.add(key)
        text = self._dumps({"module": module, "how": how, "file": where, "line": line,
                            "student": student})
        try:  # noqa: SIM105  (contextlib is not loaded yet: start-up time)
            self._write(self.fd, (text + "\n").encode())
        except OSError:
            pass  # the channel was closed by the program: the refusal stands

    def _asker(self, frame) -> tuple[bool, str, int]:
        """(asked by student code?, the file that asked, its line).

        The nearest frame that is not machinery decides who asked; the line named is the
        student's innermost one on the stack (their call into a library, say).
        """
        nearest = ours = None
        while frame is not None and ours is None:
            name = frame.f_code.co_filename
            if not self._is_machinery(name):
                nearest = nearest or frame
                if name.startswith(self.workspace):
                    ours = frame
            frame = frame.f_back
        if nearest is None:
            return False, "", 0
        first = nearest.f_code.co_filename
        # Code compiled from a string ("<string>") is the student's unless a library ran it.
        student = first.startswith(self.workspace) or not first.startswith("/")
        if ours is not None:
            return student, ours.f_code.co_filename[len(self.workspace):], ours.f_lineno
        return student, os.path.basename(first), nearest.f_lineno

    def _is_machinery(self, filename: str) -> bool:
        if filename.startswith("<frozen ") or filename == self.own_file:
            return True
        return filename.startswith(self.machinery) and "-packages/" not in filename

    # -- the two layers ------------------------------------------------------------------

    def find_spec(self, name, path=None, target=None):
        if self.is_banned(name):
            self.refuse(name, "import")
        return None

    def audit(self, event: str, args: tuple) -> None:
        if event == "import":
            if self.is_banned(args[0]):
                self.refuse(args[0], "import")
        elif event == "open":
            if args and self.path_is_banned(args[0]):
                self.refuse(_package_of(args[0], self.banned), "open")
        elif event == "pickle.find_class":
            if self.is_banned(args[0]):
                self.refuse(args[0], "pickle")
        elif event == "ctypes.dlopen" and args and self.path_is_banned(args[0] or ""):
            self.refuse(_package_of(args[0], self.banned), "ctypes")


def _package_of(path: object, banned: frozenset[str]) -> str:
    for part in os.fsdecode(path).split("/"):
        stem = part.replace("-", ".").split(".")[0]
        if stem in banned:
            return stem
    return "?"


class _Finder:
    """The ``sys.meta_path`` entry: a thin shell over the guard (a class, as importlib wants)."""

    guard: Guard | None = None

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        return cls.guard.find_spec(name, path, target) if cls.guard else None


def install(banned: frozenset[str], fd: int | None, workspace: str | None = None) -> None:
    """Arm the guard in this process (once; later calls change nothing)."""
    global _installed
    if _installed or not banned:
        return
    _installed = True
    guard = Guard(banned, fd, workspace or os.getcwd())
    _Finder.guard = guard
    sys.meta_path.insert(0, _Finder)
    sys.addaudithook(guard.audit)


def install_from_env() -> None:
    """Arm the guard as the sandbox configured it (``$LE4NN_GUARD_BANNED``, ``$LE4NN_GUARD_FD``)."""
    banned = frozenset(n for n in os.environ.get(BANNED_ENV, "").split(",") if n)
    fd_text = os.environ.get(FD_ENV, "")
    install(banned, int(fd_text) if fd_text.isdigit() else None)


if __name__ == "sitecustomize":
    install_from_env()
