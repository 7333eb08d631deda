"""Talk to the check worker: send a script of requests, get the student's answers back.

Each check runs its own worker process, so a request that hangs or crashes costs that
check only. The answers are untrusted data: arrays are rebuilt as numbers only and
every shape is checked by the caller before anything is compared.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader import worker
from grader.sandbox import RunResult, Sandbox

WORKER_FILE = "le4nn_worker.py"
ANSWER_BYTES = 64 << 20


def install_worker(tools_dir: Path) -> None:
    """Copy the worker script where the sandbox will find it (read-only inside)."""
    tools_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(worker.__file__, tools_dir / WORKER_FILE)


@dataclass
class Answers:
    """What the worker said to each request, and how its process ended."""

    answers: list[dict[str, Any]]
    run: RunResult
    expected: int

    @property
    def complete(self) -> bool:
        return len(self.answers) == self.expected

    def first_error(self) -> dict[str, Any] | None:
        return next((a for a in self.answers if not a.get("ok")), None)

    def not_attempted(self) -> bool:
        error = self.first_error()
        return bool(error and error.get("not_attempted"))


def ask(sandbox: Sandbox, requests: list[dict[str, Any]], limits) -> Answers:
    """Run the worker on ``requests`` and parse its answers, one per line, in order."""
    script = "".join(json.dumps(worker.encode(r)) + "\n" for r in requests)
    limits = replace(limits, output_bytes=max(limits.output_bytes, ANSWER_BYTES))
    run = sandbox.run(["python", sandbox.tool(WORKER_FILE)], script, limits)
    answers = []
    for line in run.stdout.splitlines():
        try:
            answer = worker.decode(json.loads(line))
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            break  # a cut or garbled line ends what can be trusted
        if not isinstance(answer, dict):
            break
        answers.append(answer)
    return Answers(answers[: len(requests)], run, len(requests))
