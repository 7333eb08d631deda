"""Write back what a run changed in its workspace, from the stream the boot sends.

With bubblewrap a program works in a size-limited tmpfs that holds both its workspace
and ``/tmp`` (so the two count against one limit, the plan's ``disk_mb``); when it has
ended, the in-sandbox boot (:mod:`grader.sandbox.inside.boot`) streams the changed
files to the grader, which writes them into the host workspace here. Only folders and
regular files are ever created, each path component opened without following links,
each file written whole (to a temporary name, then renamed), the total bounded — so what
the grader reads after a run is a snapshot it wrote itself, never a symlink, FIFO or
device a program planted.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.safe_files import descend

HEADER_BYTES = 8192
# Rather than keep reading a stream that lies about sizes: headers are few and short.
SLACK_BYTES = 16 << 20
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


@dataclass
class SyncReport:
    """What came back: files written, bytes, whether the stream ended cleanly, tmpfs use."""

    files: int = 0
    bytes: int = 0
    complete: bool = False
    used: int = 0
    free: int | None = None


def apply_stream(stream, workspace: Path, limit: int) -> SyncReport:
    """Read the boot's stream from ``stream`` (a binary file) into ``workspace``.

    Stops at the first malformed header, at ``limit`` bytes (+ slack for headers) or at
    the end record; a cut stream leaves every file either whole or as it was.
    """
    report = SyncReport()
    remaining = limit + SLACK_BYTES
    root = os.open(workspace, _DIR)
    try:
        while True:
            line = stream.readline(HEADER_BYTES)
            remaining -= len(line)
            record = _parse(line)
            if record is None or remaining < 0:
                break
            if record.get("end") is True:
                report.complete = True
                report.used = _int(record.get("used"))
                report.free = _int(record.get("free"))
                break
            if not _apply(record, stream, root, report, remaining):
                break
            remaining -= _int(record.get("size")) if "file" in record else 0
    finally:
        os.close(root)
        _drain(stream)
    return report


def _parse(line: bytes) -> dict | None:
    if not line.endswith(b"\n"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _apply(record: dict, stream, root: int, report: SyncReport, budget: int) -> bool:
    rel = next((record[k] for k in ("file", "dir", "delete") if k in record), None)
    parts = _parts(rel)
    if parts is None:
        return False
    try:
        parent = _open_parent(root, parts[:-1], create="delete" not in record)
    except OSError:
        return "file" not in record  # a file's bytes follow: the stream cannot go on
    try:
        if "dir" in record:
            with contextlib.suppress(FileExistsError):
                os.mkdir(parts[-1], 0o755, dir_fd=parent)
            return True
        if "delete" in record:
            _delete(parent, parts[-1])
            return True
        size = _int(record.get("size"))
        if size > budget:
            return False
        try:
            _write_file(stream, parent, parts[-1], size)
        except (EOFError, OSError):
            return False
        report.files += 1
        report.bytes += size
        return True
    finally:
        os.close(parent)


def _parts(rel: object) -> list[str] | None:
    if not isinstance(rel, str) or not rel or "\0" in rel:
        return None
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".")]
    if not parts or rel.startswith("/") or ".." in parts:
        return None
    return parts


def _open_parent(root: int, parts: list[str], create: bool) -> int:
    return descend(os.dup(root), parts, create)


def _write_file(stream, parent: int, name: str, size: int) -> None:
    """Exactly ``size`` bytes from ``stream`` become ``name`` (replaced only when whole)."""
    tmp = f".le4nn-sync-{os.getpid()}-{id(stream)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o644, dir_fd=parent)
    left = size
    try:
        while left:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                raise EOFError("the stream ended inside a file")
            os.write(fd, chunk)
            left -= len(chunk)
    except (EOFError, OSError):
        os.close(fd)
        os.unlink(tmp, dir_fd=parent)
        raise
    os.close(fd)
    try:
        os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
    except OSError:  # a folder of that name: keep the folder
        os.unlink(tmp, dir_fd=parent)


def _delete(parent: int, name: str) -> None:
    with contextlib.suppress(OSError):
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            os.rmdir(name, dir_fd=parent)  # only once empty: its files were deleted first
        else:
            os.unlink(name, dir_fd=parent)


def _drain(stream) -> None:
    """Read what is left so the writer never blocks on a full pipe."""
    with contextlib.suppress(OSError, ValueError):
        while stream.read(CHUNK):
            pass
