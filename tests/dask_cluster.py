"""A real Dask cluster for tests: a scheduler and workers as separate processes.

Each worker runs inside a mount namespace (bubblewrap) in which the ``hidden`` folder is
an empty tmpfs, so the class folder and the output folder under it do not exist for the
workers: whatever they grade has to travel.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT


def hiding_works(hidden: Path) -> tuple[bool, str]:
    """Whether bubblewrap can start a process that does not see ``hidden``."""
    if shutil.which("bwrap") is None:
        return False, "bwrap not installed"
    hidden.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--tmpfs", str(hidden), "--",
                            "true"], capture_output=True, text=True)
    return probe.returncode == 0, probe.stderr.strip()[:200]


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes, killed on :meth:`close`."""

    def __init__(self, hidden: Path, logs: Path, workers: int = 2) -> None:
        ok, why = hiding_works(hidden)
        if not ok:
            pytest.skip(f"workers in a mount namespace need bubblewrap: {why}")
        self.hidden, self.logs = hidden, logs
        logs.mkdir(parents=True, exist_ok=True)
        self.scheduler = self._start("scheduler", [
            sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
            "--no-dashboard", "--scheduler-file", str(logs / "scheduler.json")])
        self.address = self._address()
        self.workers: list[subprocess.Popen] = []
        for _ in range(workers):
            self.workers.append(self.add_worker())
        self.wait_for_workers(workers)

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.logs / f"{name}.log", "ab") as log:
            return subprocess.Popen(argv, stdout=log, stderr=log, env=env,
                                    start_new_session=True)

    def _address(self) -> str:
        deadline = time.monotonic() + 60
        file = self.logs / "scheduler.json"
        while time.monotonic() < deadline:
            if file.exists() and file.stat().st_size:
                return json.loads(file.read_text())["address"]
            assert self.scheduler.poll() is None, self.log("scheduler")
            time.sleep(0.2)
        raise AssertionError("the scheduler did not start: " + self.log("scheduler"))

    def add_worker(self) -> subprocess.Popen:
        """One worker process (no nanny), in a namespace where ``hidden`` is empty."""
        n = len(self.workers)
        return self._start(f"worker{n}", [
            "bwrap", "--dev-bind", "/", "/", "--tmpfs", str(self.hidden), "--die-with-parent",
            "--", sys.executable, "-m", "dask", "worker", self.address, "--nthreads", "1",
            "--no-nanny", "--no-dashboard", "--death-timeout", "60", "--name", f"w{n}"])

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="20s") as client:
            client.wait_for_workers(n, timeout=90)

    def sees(self, path: Path) -> list[bool]:
        """Whether each worker sees ``path``."""
        from distributed import Client

        with Client(self.address, timeout="20s") as client:
            return list(client.run(os.path.exists, str(path)).values())

    def kill_worker(self, i: int) -> None:
        _kill(self.workers[i])

    def kill_scheduler(self) -> None:
        _kill(self.scheduler)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        for proc in (*self.workers, self.scheduler):
            _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    """The process and everything it started (a machine gone, as far as Dask can tell)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
