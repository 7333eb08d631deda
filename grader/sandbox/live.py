"""A long-lived sandboxed process that answers request lines (the check worker, kept alive).

It is started exactly like a one-off run (:meth:`Sandbox.launch`: the same boot, import
guard, bubblewrap mounts, environment, rlimits, confinement and pids cgroup; with
bubblewrap it works on a copy of the workspace and nothing is written back) but serves
many exchanges; what the guard refused reaches the sandbox's records when it is closed.
Each exchange has limits of its own, enforced from outside: a wall-clock deadline, a CPU
budget (the CPU seconds of the whole process tree, read from ``/proc`` while the exchange
runs) and a cap on the bytes read. A process that overruns one is killed; its owner starts
a fresh one for the next exchange. Its rlimit on CPU time is only a backstop for the
process's lifetime.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.cgroup import PidsCgroup
from grader.sandbox.runner import Limits, Sandbox, kill_tree

POLL_S = 0.25  # how often a long exchange checks the CPU budget
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_OVERFLOW, _EOF = object(), object()


@dataclass
class Exchange:
    """What one exchange got: complete lines, and why it ended early (None: it did not)."""

    lines: list[bytes]
    ended: str | None  # "timeout" (wall clock), "cpu", "output", "exited" or None
    returncode: int | None
    stderr: str
    seconds: float


class LiveProcess:
    """``argv`` running in ``sandbox`` with ``limits`` (its lifetime's rlimits)."""

    def __init__(self, sandbox: Sandbox, argv: list[str], limits: Limits) -> None:
        self._sandbox = sandbox
        self._launch = sandbox.launch(argv, limits, write_back=False)
        self._group = PidsCgroup.create(limits.processes)
        try:
            self._proc = self._launch.start(sandbox.workspace, self._group)
        except BaseException:
            if self._group is not None:
                self._group.close()
            raise
        self._side = self._launch.channels.start(sandbox.workspace, limits.disk_bytes)
        self._closed = False
        self._lines: queue.Queue = queue.Queue()
        self._budget = 0  # bytes the current exchange may still read
        self._budget_lock = threading.Lock()
        self._stderr = _Tail(limits.output_bytes)
        self._writer: threading.Thread | None = None
        for target, stream in ((self._read_lines, self._proc.stdout),
                               (self._stderr.drain, self._proc.stderr)):
            threading.Thread(target=target, args=(stream,), daemon=True).start()

    @property
    def alive(self) -> bool:
        """Whether it still runs (asked without reaping it: see :func:`kill_tree`)."""
        if self._closed:
            return False
        try:
            return os.waitid(os.P_PID, self._proc.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the process and every descendant (0 once it is gone)."""
        return tree_cpu_seconds(self._proc.pid)

    def exchange(self, data: bytes, count: int, wall_s: float, cpu_s: float,
                 byte_cap: int) -> Exchange:
        """Send ``data`` and read ``count`` lines within ``wall_s`` seconds, ``cpu_s`` CPU
        seconds and ``byte_cap`` bytes; on any overrun the process is killed."""
        start = time.perf_counter()
        self._drain_stale()
        with self._budget_lock:
            self._budget = byte_cap
        mark, cpu_start = self._stderr.total, self.cpu_seconds()
        if self._writer is not None:
            self._writer.join()
        self._writer = threading.Thread(target=self._write, args=(data,), daemon=True)
        self._writer.start()
        lines: list[bytes] = []
        ended = None
        deadline = start + wall_s
        while len(lines) < count:
            left = deadline - time.perf_counter()
            if left <= 0:
                ended = "timeout"
                break
            try:
                item = self._lines.get(timeout=min(left, POLL_S))
            except queue.Empty:
                if self.cpu_seconds() - cpu_start > cpu_s:
                    ended = "cpu"
                    break
                continue
            if item is _OVERFLOW or item is _EOF:
                ended = "output" if item is _OVERFLOW else "exited"
                break
            lines.append(item)
        if ended is not None:
            self.close()
        return Exchange(lines, ended, self._proc.returncode, self._stderr.since(mark),
                        time.perf_counter() - start)

    def close(self) -> None:
        """Kill the process tree, reap it and hand the guard's records to the sandbox."""
        if self._closed:
            return
        self._closed = True
        kill_tree(self._proc.pid, self._group)
        if self._group is not None:
            self._group.close()
            self._group = None
        self._proc.wait()
        for t in self._side:
            t.join(timeout=5)  # a grandchild that escaped could hold the pipe open
        self._sandbox.record_blocked(self._launch.channels.records)
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()

    def _write(self, data: bytes) -> None:
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the process exited or was killed: the exchange reports how

    def _drain_stale(self) -> None:
        """Lines written between exchanges answer nothing that was asked: drop them."""
        with contextlib.suppress(queue.Empty):
            while True:
                item = self._lines.get_nowait()
                if item is _OVERFLOW or item is _EOF:
                    self._lines.put(item)
                    return

    def _read_lines(self, stream) -> None:
        pending = bytearray()
        while chunk := stream.read1(65536):
            with self._budget_lock:
                self._budget -= len(chunk)
                over = self._budget < 0
            if over:
                self._lines.put(_OVERFLOW)
                return
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:  # only the new bytes are searched
                pending += chunk[start:end]
                self._lines.put(bytes(pending))
                pending.clear()
                start = end + 1
            pending += chunk[start:]
        self._lines.put(_EOF)


class _Tail:
    """Drains a pipe, keeping the last ``cap`` bytes and a count of all bytes seen."""

    def __init__(self, cap: int) -> None:
        self.cap, self.total = cap, 0
        self._data = bytearray()
        self._lock = threading.Lock()

    def drain(self, stream) -> None:
        while chunk := stream.read1(65536):
            with self._lock:
                self._data += chunk
                del self._data[: max(0, len(self._data) - self.cap)]
                self.total += len(chunk)

    def since(self, mark: int) -> str:
        """What arrived after ``total`` was ``mark`` (as much of it as is kept)."""
        with self._lock:
            new = min(self.total - mark, len(self._data))
            return bytes(self._data[len(self._data) - new:]).decode("utf-8", "replace")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and all its descendants, from /proc.

    Children already reaped count through their parent's ``cutime``/``cstime``.
    """
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue  # exited while we looked
        # The command name may contain anything, even ") ": the fields follow the last ")".
        fields = stat[stat.rfind(b")") + 2:].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = sum(int(f) for f in fields[11:15]) / _CLOCK_TICKS
    total, todo = 0.0, [root]
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo += children.get(pid, [])
    return total
