"""The side pipes of one sandboxed process, read by the grader while it runs.

- the import guard's records (:mod:`grader.sandbox.inside.guard`): one JSON line per
  refused import, at most :data:`GUARD_BYTES` kept;
- with bubblewrap, the workspace stream of the boot (:mod:`grader.sandbox.inside.boot`),
  written back by :func:`grader.sandbox.sync.apply_stream`.

Both write ends go to the child (``pass_fds``); the grader keeps only the read ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from grader.sandbox.sync import SyncReport, apply_stream

GUARD_BYTES = 64 << 10


class Channels:
    """The run's side pipes: the guard's records and (bubblewrap) the workspace stream."""

    def __init__(self, sync: bool = False) -> None:
        self.guard_read, self.guard_fd = os.pipe()
        self.sync = sync
        self.sync_read, self.sync_fd = os.pipe() if sync else (-1, -1)
        self.records: list[dict[str, Any]] = []
        self.report = SyncReport()

    @property
    def child_fds(self) -> tuple[int, ...]:
        return (self.guard_fd, self.sync_fd) if self.sync else (self.guard_fd,)

    def start(self, workspace: Path, disk_bytes: int) -> list[threading.Thread]:
        """Close our copies of the write ends and read both pipes in threads."""
        for fd in self.child_fds:
            os.close(fd)
        threads = [threading.Thread(target=self._read_guard, daemon=True)]
        if self.sync:
            threads.append(threading.Thread(target=self._read_sync, args=(workspace, disk_bytes),
                                            daemon=True))
        for t in threads:
            t.start()
        return threads

    def _read_guard(self) -> None:
        with os.fdopen(self.guard_read, "rb") as f:
            data = f.read(GUARD_BYTES)
            while f.read(65536):
                pass
        self.records = parse_guard_records(data)

    def _read_sync(self, workspace: Path, disk_bytes: int) -> None:
        with os.fdopen(self.sync_read, "rb") as f:
            self.report = apply_stream(f, workspace, disk_bytes)

    def close_unused(self) -> None:
        """When the process could not be started: close every end."""
        for fd in (self.guard_read, self.guard_fd, self.sync_read, self.sync_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


def parse_guard_records(data: bytes) -> list[dict[str, Any]]:
    """The guard's JSON lines, each checked field by field (the program could write here)."""
    records = []
    for line in data.splitlines():
        try:
            raw = json.loads(line)
        except ValueError:
            continue
        if not isinstance(raw, dict):
            continue
        module, how, file, lineno = (raw.get(k) for k in ("module", "how", "file", "line"))
        if (isinstance(module, str) and module.isidentifier() and isinstance(how, str)
                and isinstance(file, str) and isinstance(lineno, int)):
            records.append({"module": module, "how": how[:20], "file": file[:200],
                            "line": lineno, "student": raw.get("student") is True})
    return records
