"""The one way the grader process reads files a student controls.

The grader runs outside the sandbox (often as root) and reads submission folders and
workspaces that student code shaped: a file there may be a symlink to a host file, a
FIFO that blocks ``open``, a device that never ends, a tree nested thousands of levels
deep. Every read goes through here:

- each path component is opened with ``O_NOFOLLOW`` relative to its parent's descriptor,
  so no symlink is followed, inside the root or out of it;
- only regular files are read (``fstat`` after an ``O_NONBLOCK`` open: a FIFO neither
  blocks nor is read), at most ``limit`` bytes;
- trees are walked iteratively, without following links, to a bounded depth and count.

What is refused raises :class:`UnsafeFile` with a one-line reason a report can show.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_DEPTH = 32
MAX_ENTRIES = 20_000
DEFAULT_LIMIT = 16 << 20

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class UnsafeFile(OSError):
    """A student file the grader will not read; ``str()`` is a one-line reason."""


def _parts(rel: str | PurePosixPath) -> list[str]:
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".")]
    if not parts or any(p == ".." or p.startswith("/") for p in parts):
        raise UnsafeFile(f"{rel}: not a path inside the folder")
    return parts


def _open_dir(root: Path, parts: list[str]) -> int:
    """A descriptor of ``root/parts…``, every component opened without following links."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return fd


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def read_bytes(root: Path, rel: str | PurePosixPath, limit: int = DEFAULT_LIMIT) -> bytes:
    """The bytes of the regular file ``root/rel``; at most ``limit`` of them.

    Raises UnsafeFile when a component is a symlink, the file is not regular, or it is
    larger than ``limit``.
    """
    parts = _parts(rel)
    try:
        dir_fd = _open_dir(Path(root), parts[:-1])
    except OSError as e:
        raise UnsafeFile(f"{rel}: {_why(e)}") from None
    try:
        try:
            st = os.lstat(parts[-1], dir_fd=dir_fd)
        except OSError as e:
            raise UnsafeFile(f"{rel}: {_why(e)}") from None
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"{rel}: {_kind(st.st_mode)}, not read")
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as e:
            raise UnsafeFile(f"{rel}: {_why(e)}") from None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between lstat and open
            raise UnsafeFile(f"{rel}: {_kind(st.st_mode)}, not read")
        if st.st_size > limit:
            raise UnsafeFile(f"{rel}: {st.st_size / 2**20:.1f} MB, more than the "
                             f"{limit / 2**20:g} MB the grader reads")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while being read
                raise UnsafeFile(f"{rel}: more than the {limit / 2**20:g} MB the grader reads")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(root: Path, rel: str | PurePosixPath, limit: int = DEFAULT_LIMIT,
              encoding: str = "utf-8", errors: str = "replace") -> str:
    """:func:`read_bytes` decoded (``utf-8-sig`` drops a BOM)."""
    return read_bytes(root, rel, limit).decode(encoding, errors)


def _why(e: OSError) -> str:
    if e.errno == getattr(os, "ELOOP", 40) or e.errno == getattr(os, "ENOTDIR", 20):
        return "a symbolic link (or a path through one), not followed"
    return e.strerror or type(e).__name__


@dataclass
class Tree:
    """The regular files under a root (relative POSIX paths) and what was left out, why."""

    files: list[PurePosixPath] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False


def walk(root: Path, *, max_depth: int = MAX_DEPTH, max_entries: int = MAX_ENTRIES,
         skip_dirs: frozenset[str] | set[str] = frozenset()) -> Tree:
    """Every regular file under ``root``, sorted; links, pipes and devices are listed as
    skipped, never followed or opened. Iterative: a deep tree cannot exhaust the stack.

    Folders deeper than ``max_depth`` are skipped (and listed); after ``max_entries``
    entries the walk stops with ``truncated`` set.
    """
    tree = Tree()
    seen = 0
    stack: list[tuple[PurePosixPath, int]] = [(PurePosixPath(), 0)]
    while stack:
        rel_dir, depth = stack.pop()
        for name, mode in _entries(root, rel_dir, tree):
            seen += 1
            if seen > max_entries:
                tree.truncated = True
                tree.files.sort()
                return tree
            rel = rel_dir / name
            if stat.S_ISDIR(mode):
                if name in skip_dirs:
                    continue
                if depth + 1 > max_depth:
                    tree.skipped.append((rel.as_posix(), f"deeper than {max_depth} folders"))
                else:
                    stack.append((rel, depth + 1))
            elif stat.S_ISREG(mode):
                tree.files.append(rel)
            else:
                tree.skipped.append((rel.as_posix(), _kind(mode)))
    tree.files.sort()
    return tree


def _entries(root: Path, rel_dir: PurePosixPath, tree: Tree) -> Iterator[tuple[str, int]]:
    try:
        fd = _open_dir(Path(root), list(rel_dir.parts))
    except OSError as e:
        tree.skipped.append((rel_dir.as_posix() or ".", _why(e)))
        return
    try:
        names = sorted(os.listdir(fd))
        for name in names:
            try:
                mode = os.lstat(name, dir_fd=fd).st_mode
            except OSError as e:
                tree.skipped.append(((rel_dir / name).as_posix(), _why(e)))
                continue
            yield name, mode
    finally:
        os.close(fd)
