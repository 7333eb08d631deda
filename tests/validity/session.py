"""Judging one submission on many plan seeds in one check-worker process (tests only).

``grade()`` starts a worker per check; over 20 seeds × dozens of submissions that start-up
would dominate. Here one worker serves every exchange of a submission, and the check
functions are called directly with a Context per seed, exactly as ``grade()`` calls them
(same settings, same ``exchange(ctx, requests) -> Answers`` contract). A persistent worker
keeps student state between checks, as the grader's persistent worker will: the checks
must not depend on a fresh process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from grader.api_client import Answers
from grader.checks import (
    REGISTRY,
    Context,
    Verdict,
    api_behaviour,
    api_common,
    api_decay,
    api_optimizers,
)
from grader.grade import known_checks
from grader.plan import Plan, load
from grader.sandbox import RunResult, Sandbox
from grader.sandbox.inside import protocol
from grader.sandbox.tools import install_tools
from tests.conftest import ROOT

# Every module that calls exchange itself.
CHECK_MODULES = (api_common, api_behaviour, api_optimizers, api_decay)
ANSWER_TIMEOUT_S = 120


class WorkerSession:
    """One check worker in ``folder`` (the submission copy), fed request by request."""

    def __init__(self, folder: Path, tools: Path) -> None:
        argv = Sandbox(folder, None, use_bwrap=False, tools_dir=tools).inside("worker")
        # Without the sandbox's boot: the tools package and the reference library (which
        # the honest variants use through their adapters) come from PYTHONPATH.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PYTHONPATH": os.pathsep.join([str(tools), str(ROOT)]),
               "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "HOME": str(folder)}
        self.proc = subprocess.Popen([sys.executable, *argv[1:]], cwd=folder, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def exchange(self, ctx: Context, requests: list[dict[str, Any]]) -> Answers:
        script = "".join(json.dumps(protocol.encode(r)) + "\n" for r in requests)
        writer = threading.Thread(target=self._write, args=(script,), daemon=True)
        writer.start()
        answers = [protocol.decode(json.loads(self.lines.get(timeout=ANSWER_TIMEOUT_S)))
                   for _ in requests]
        writer.join()
        return Answers(answers, RunResult(0, "", "", False, 0.0, False), len(requests))

    def _write(self, script: str) -> None:
        self.proc.stdin.write(script)
        self.proc.stdin.flush()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def plan_with(path: Path, strict: bool = False) -> Plan:
    plan = load(path, known_checks)
    if strict:
        for settings in plan.checks.values():
            if "strict" in settings:
                settings["strict"] = True
    return plan


def api_checks(plan: Plan, kinds: set[str] | None = None) -> list[str]:
    """The plan's layer and optimizer checks (of ``kinds``, when given), in plan order."""
    found = [c for c in plan.checks if REGISTRY[c].program is None and c.count(".") == 2]
    return [c for c in found if kinds is None or c.split(".")[1] in kinds]


@contextmanager
def session(folder: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerSession]:
    """The check modules' ``exchange`` routed to one worker in ``folder``."""
    install_tools(tmp / "tools")
    worker = WorkerSession(folder, tmp / "tools")
    with monkeypatch.context() as patch:
        for module in CHECK_MODULES:
            patch.setattr(module, "exchange", worker.exchange)
        try:
            yield worker
        finally:
            worker.close()


def judge(plan: Plan, check_id: str, seed: int) -> Verdict:
    """The verdict of one check on one plan seed, as grade() would reach it."""
    seeded = dataclasses.replace(plan, seeds={**plan.seeds, "sample": seed})
    ctx = Context(None, None, None, seeded, snapshot=Path())  # type: ignore[arg-type]
    return REGISTRY[check_id].fn(ctx, plan.checks[check_id])
