"""Talk to the check worker: send a script of requests, get the student's answers back.

Each check runs its own worker process, so a request that hangs or crashes costs that
check only. The answers are untrusted data: arrays are rebuilt as numbers only and
every shape is checked by the caller before anything is compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from grader.sandbox import RunResult, Sandbox
from grader.sandbox.inside import protocol

ANSWER_BYTES = 64 << 20


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


def ask(sandbox: Sandbox, requests: list[dict[str, Any]], limits,
        module: str = "worker") -> Answers:
    """Run a worker (``le4nn_inside.<module>``) on ``requests``; its answers, in order."""
    script = "".join(json.dumps(protocol.encode(r)) + "\n" for r in requests)
    limits = replace(limits, output_bytes=max(limits.output_bytes, ANSWER_BYTES))
    run = sandbox.run(sandbox.inside(module), script, limits)
    answers = []
    for line in run.stdout.splitlines():
        try:
            answer = protocol.decode(json.loads(line))
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            break  # a cut or garbled line ends what can be trusted
        if not isinstance(answer, dict):
            break
        answers.append(answer)
    return Answers(answers[: len(requests)], run, len(requests))
