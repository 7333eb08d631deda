"""The one way the grader process reads files a student controls.

The grader runs outside the sandbox (often as root) and reads submission folders and
workspaces that student code shaped: a file there may be a symlink to a host file, a
FIFO that blocks ``open``, a device that never ends, a tree nested thousands of levels
deep. Every read goes through here:

- each path component is opened with ``O_NOFOLLOW`` relative to its parent's descriptor,
  so no symlink is followed, inside the root or out of it (the root itself is the
  caller's: a folder the user named or the grader made);
- only regular files are read (``fstat`` after an ``O_NONBLOCK`` open: a FIFO neither
  blocks nor is read), at most ``limit`` bytes;
- trees are walked iteratively, without following links, to a bounded depth, count of
  entries and time; nothing in a walk is opened but folders.

Reading a regular file of a local file system at most ``limit`` bytes long is bounded in
time by its size, so reads have no clock of their own; a walk has one, since a folder may
hold more entries than can be listed quickly.

What is refused raises :class:`UnsafeFile` with a one-line reason a report can show and a
``kind`` a message catalogue can word.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

MAX_DEPTH = 32
MAX_ENTRIES = 20_000
MAX_WALK_SECONDS = 60.0
DEFAULT_LIMIT = 16 << 20
CHUNK = 1 << 20

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

# The kinds of refusal (``UnsafeFile.kind``), for messages that say what to do.
LINK, SPECIAL, TOO_LARGE, OUTSIDE, UNREADABLE = (
    "link", "special", "too_large", "outside", "unreadable")


class UnsafeFile(OSError):
    """A student file the grader will not read; ``str()`` is a one-line reason.

    ``kind`` is one of ``link``, ``special`` (FIFO, socket, device, folder), ``too_large``,
    ``outside`` (a path that leaves the root) and ``unreadable``.
    """

    def __init__(self, reason: str, kind: str = UNREADABLE) -> None:
        super().__init__(reason)
        self.kind = kind

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Batch workers send exceptions between processes; keep the kind.
        return type(self), (str(self), self.kind)


def _parts(rel: str | PurePosixPath) -> list[str]:
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".")]
    if not parts or any(p == ".." or p.startswith("/") for p in parts):
        raise UnsafeFile(f"{rel}: not a path inside the folder", OUTSIDE)
    return parts


def _open_dir(root: Path, parts: list[str]) -> int:
    """A descriptor of ``root/parts…``, every component opened without following links."""
    return descend(os.open(root, _DIR_FLAGS), parts)


def descend(fd: int, parts: list[str], create: bool = False) -> int:
    """A descriptor of ``parts…`` below the folder ``fd`` (taken over: closed on the way),
    every component opened without following links; ``create`` makes missing folders."""
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError:
        os.close(fd)
        raise
    return fd


def describe_mode(mode: int) -> str:
    """What a file of this ``st_mode`` is, in a few words ("a named pipe (FIFO)")."""
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


def _refused(rel: object, mode: int) -> UnsafeFile:
    kind = LINK if stat.S_ISLNK(mode) else SPECIAL
    return UnsafeFile(f"{rel}: {describe_mode(mode)}, not read", kind)


def _why(e: OSError) -> str:
    if e.errno == getattr(os, "ELOOP", 40) or e.errno == getattr(os, "ENOTDIR", 20):
        return "a symbolic link (or a path through one), not followed"
    return e.strerror or type(e).__name__


def _error(rel: object, e: OSError) -> UnsafeFile:
    kind = LINK if e.errno in (getattr(os, "ELOOP", 40), getattr(os, "ENOTDIR", 20)) \
        else UNREADABLE
    return UnsafeFile(f"{rel}: {_why(e)}", kind)


def lstat(root: Path, rel: str | PurePosixPath) -> os.stat_result:
    """The ``lstat`` of ``root/rel``, reached without following a link on the way.

    Raises UnsafeFile (kind ``link``) when a folder on the way is a link.
    """
    parts = _parts(rel)
    try:
        dir_fd = _open_dir(Path(root), parts[:-1])
    except OSError as e:
        raise _error(rel, e) from None
    try:
        return os.lstat(parts[-1], dir_fd=dir_fd)
    except OSError as e:
        raise _error(rel, e) from None
    finally:
        os.close(dir_fd)


def _open_regular(root: Path, rel: str | PurePosixPath, limit: int) -> int:
    """A descriptor of the regular file ``root/rel`` of at most ``limit`` bytes."""
    parts = _parts(rel)
    try:
        dir_fd = _open_dir(Path(root), parts[:-1])
    except OSError as e:
        raise _error(rel, e) from None
    try:
        try:
            st = os.lstat(parts[-1], dir_fd=dir_fd)
        except OSError as e:
            raise _error(rel, e) from None
        if not stat.S_ISREG(st.st_mode):
            raise _refused(rel, st.st_mode)
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as e:
            raise _error(rel, e) from None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between lstat and open
            raise _refused(rel, st.st_mode)
        if st.st_size > limit:
            raise UnsafeFile(f"{rel}: {st.st_size / 2**20:.1f} MB, more than the "
                             f"{limit / 2**20:g} MB the grader reads", TOO_LARGE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(root: Path, rel: str | PurePosixPath, limit: int = DEFAULT_LIMIT) -> BinaryIO:
    """The regular file ``root/rel`` (at most ``limit`` bytes) opened for reading, for
    readers that seek (``zipfile``); UnsafeFile as for :func:`read_bytes`."""
    return os.fdopen(_open_regular(root, rel, limit), "rb")


def chunks(root: Path, rel: str | PurePosixPath, limit: int = DEFAULT_LIMIT) -> Iterator[bytes]:
    """The bytes of the regular file ``root/rel`` in pieces, at most ``limit`` in all.

    For copying and hashing without holding a large file in memory. The file is opened
    (and checked, raising UnsafeFile) on the first ``next``; close the iterator, or run it
    to the end, to close the file.
    """
    fd = _open_regular(root, rel, limit)
    try:
        total = 0
        while chunk := os.read(fd, min(CHUNK, limit + 1 - total)):
            total += len(chunk)
            if total > limit:  # grew while being read
                raise UnsafeFile(f"{rel}: more than the {limit / 2**20:g} MB the grader reads",
                                 TOO_LARGE)
            yield chunk
    except OSError as e:
        if isinstance(e, UnsafeFile):
            raise
        raise _error(rel, e) from None
    finally:
        os.close(fd)


def read_bytes(root: Path, rel: str | PurePosixPath, limit: int = DEFAULT_LIMIT) -> bytes:
    """The bytes of the regular file ``root/rel``; at most ``limit`` of them.

    Raises UnsafeFile when a component is a symlink, the file is not regular, or it is
    larger than ``limit``.
    """
    return b"".join(chunks(root, rel, limit))


def read_text(root: Path, rel: str | PurePosixPath, limit: int = DEFAULT_LIMIT,
              encoding: str = "utf-8", errors: str = "replace") -> str:
    """:func:`read_bytes` decoded (``utf-8-sig`` drops a BOM)."""
    return read_bytes(root, rel, limit).decode(encoding, errors)


def read_path(path: Path, limit: int = DEFAULT_LIMIT) -> bytes:
    """:func:`read_bytes` of ``path`` within its own folder: the last component is not
    followed if it is a link (the folders above it are the caller's)."""
    path = Path(path)
    return read_bytes(path.parent, path.name, limit)


@dataclass
class Tree:
    """The regular files under a root (relative POSIX paths) and what was left out, why.

    ``stats`` holds the ``lstat`` of every file and skipped entry seen. ``too_deep`` says
    that folders deeper than the walk's ``max_depth`` were skipped; ``truncated`` that it
    stopped early (more entries than ``max_entries``, or out of time).
    """

    files: list[PurePosixPath] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False
    too_deep: bool = False
    stats: dict[PurePosixPath, os.stat_result] = field(default_factory=dict)


def walk(root: Path, *, max_depth: int = MAX_DEPTH, max_entries: int = MAX_ENTRIES,
         skip_dirs: frozenset[str] | set[str] = frozenset(),
         max_seconds: float = MAX_WALK_SECONDS) -> Tree:
    """Every regular file under ``root``, sorted; links, pipes and devices are listed as
    skipped, never followed or opened. Iterative: a deep tree cannot exhaust the stack.

    Folders deeper than ``max_depth`` (0: only the root's own entries) are skipped and
    listed, and ``too_deep`` is set; after ``max_entries`` entries or ``max_seconds`` the
    walk stops with ``truncated`` set. Folders named in ``skip_dirs`` are not entered.
    """
    tree = Tree()
    deadline = time.monotonic() + max_seconds
    stack: list[tuple[PurePosixPath, int]] = [(PurePosixPath(), 0)]
    while stack and not tree.truncated:
        rel_dir, depth = stack.pop()
        entries, complete = _entries(root, rel_dir, tree, max_entries - len(tree.stats))
        tree.truncated = not complete or time.monotonic() > deadline
        for name, st in entries:
            rel = rel_dir / name
            tree.stats[rel] = st
            if stat.S_ISDIR(st.st_mode):
                if name in skip_dirs:
                    continue
                if depth + 1 > max_depth:
                    tree.too_deep = True
                    tree.skipped.append((rel.as_posix(), f"deeper than {max_depth} folders"))
                else:
                    stack.append((rel, depth + 1))
            elif stat.S_ISREG(st.st_mode):
                tree.files.append(rel)
            else:
                tree.skipped.append((rel.as_posix(), describe_mode(st.st_mode)))
    tree.files.sort()
    return tree


def _entries(root: Path, rel_dir: PurePosixPath, tree: Tree,
             budget: int) -> tuple[list[tuple[str, os.stat_result]], bool]:
    """The (name, lstat) of a folder's entries, sorted, at most ``budget`` of them, and
    whether that was all. A folder that cannot be opened is listed as skipped."""
    try:
        fd = _open_dir(Path(root), list(rel_dir.parts))
    except OSError as e:
        tree.skipped.append((rel_dir.as_posix() or ".", _why(e)))
        return [], True
    found: list[tuple[str, os.stat_result]] = []
    complete = True
    try:
        with os.scandir(fd) as listing:  # one entry at a time: a huge folder stops early
            for entry in listing:
                if len(found) >= budget:
                    complete = False
                    break
                try:
                    found.append((entry.name, entry.stat(follow_symlinks=False)))
                except OSError as e:
                    tree.skipped.append(((rel_dir / entry.name).as_posix(), _why(e)))
    finally:
        os.close(fd)
    return sorted(found, key=lambda item: item[0]), complete
