"""A pids cgroup per sandboxed run, where the machine lets the grader make one.

RLIMIT_NPROC does not bind root (and counts every process of the user), so a fork bomb
is capped here instead: the run's first process joins a fresh cgroup whose
``pids.max`` bounds the whole process tree, and everything left in it is killed when
the run ends. Best effort: without a writable pids controller this returns None and
the run relies on its rlimits, the pid namespace of bubblewrap and the timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

# cgroup v1 mounts the controller on its own; v2 has one tree with a controller list.
ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def _pids_root() -> Path | None:
    for root in ROOTS:
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            if root.name == "pids":
                return root
            controllers = root / "cgroup.subtree_control"
            if controllers.exists() and "pids" in controllers.read_text().split():
                return root
    return None


class PidsCgroup:
    """A cgroup limited to ``max_pids`` processes; ``fd`` is its cgroup.procs, open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        root = _pids_root()
        if root is None:
            return None
        path = root / f"le4nn-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids))
            fd = os.open(path / "cgroup.procs", os.O_WRONLY)
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path, fd)

    @property
    def procs(self) -> Path:
        """The group's ``cgroup.procs``: a process that writes 0 to it moves in."""
        return self.path / "cgroup.procs"

    def join_self(self) -> None:
        """Move the calling process in; called in the child between fork and exec."""
        os.write(self.fd, b"0")

    def kill_all(self) -> None:
        """Kill whatever is in the group (a daemon that left the session and the group)."""
        for _ in range(50):
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def close(self) -> None:
        """Kill whatever is still in the group, then remove it."""
        os.close(self.fd)
        self.kill_all()
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def _pids(self) -> list[int]:
        try:
            return [int(p) for p in self.procs.read_text().split()]
        except OSError:
            return []
