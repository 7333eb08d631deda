"""Talk to the check worker: send a script of requests, get the student's answers back.

One worker process serves all API checks of a submission (:class:`CheckWorker`), one check
at a time: importing the student's modules once instead of once per check. Each check
starts from fresh objects (a ``reset`` request ahead of its script drops the layer and the
optimizer of the check before) and runs under the plan's limits of its own: a check that
hangs, burns its CPU budget, floods its output or kills the worker is reported as such, and
the next check gets a fresh worker. The answers are untrusted data: arrays are rebuilt as
numbers only and every shape is checked by the caller before anything is compared.

:func:`ask` runs a worker for one script and lets it end (the framework worker).
"""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import dataclass, replace
from typing import Any

from grader.sandbox import Limits, RunResult, Sandbox
from grader.sandbox.inside import protocol
from grader.sandbox.live import Exchange, LiveProcess
from grader.sandbox.runner import hit_cpu_limit

ANSWER_BYTES = 64 << 20
# The worker's rlimit on CPU time, in per-check budgets: a backstop only, since each check's
# budget is enforced from outside and the worker is replaced once it has used one budget.
LIFETIME_BUDGETS = 2


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


def _script(requests: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(protocol.encode(r)) + "\n" for r in requests)


def _decode(lines: list[str | bytes]) -> list[dict[str, Any]]:
    """The answers up to the first line that is not one: a cut or garbled line ends trust."""
    answers = []
    for line in lines:
        try:
            answer = protocol.decode(json.loads(line))
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            break
        if not isinstance(answer, dict):
            break
        answers.append(answer)
    return answers


def ask(sandbox: Sandbox, requests: list[dict[str, Any]], limits: Limits,
        module: str = "worker") -> Answers:
    """Run a worker (``le4nn_inside.<module>``) on ``requests``; its answers, in order."""
    limits = replace(limits, output_bytes=max(limits.output_bytes, ANSWER_BYTES))
    run = sandbox.run(sandbox.inside(module), _script(requests), limits)
    answers = _decode(run.stdout.splitlines())
    return Answers(answers[: len(requests)], run, len(requests))


class CheckWorker:
    """The check worker of one submission (``le4nn_inside.<module>``), kept across checks.

    ``limits`` are those of one check. Thread-safe: checks take turns.
    """

    def __init__(self, sandbox: Sandbox, limits: Limits, module: str = "worker") -> None:
        self.sandbox, self.limits, self.module = sandbox, limits, module
        self._process: LiveProcess | None = None
        self._checks = 0
        self._lock = threading.Lock()
        self.started = 0  # worker processes started so far (a dead or hung one is replaced)

    def exchange(self, requests: list[dict[str, Any]]) -> Answers:
        """One check's script, on fresh objects: one answer per request, in order."""
        with self._lock:
            process = self._ready()
            self._checks += 1
            reset = {"op": "reset", "check": self._checks}
            got = process.exchange(_script([reset, *requests]).encode(), len(requests) + 1,
                                   self.limits.wall_s, self.limits.cpu_s, ANSWER_BYTES)
            decoded = _decode(got.lines)
            if not decoded or decoded[0] != {"ok": True, "check": self._checks}:
                decoded = [{}]  # not an answer to this check's reset: nothing can be trusted
            answers = decoded[1:]
            if got.ended is None and len(answers) < len(requests):
                process.close()  # a garbled line: the rest of its output is out of step
            if not process.alive:
                process.close()  # reaped, and its guard records handed over
                self._process = None
            return Answers(answers, _run_result(got, len(answers) == len(requests)),
                           len(requests))

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.close()
                self._process = None

    def _ready(self) -> LiveProcess:
        """The live worker, replaced when it has used a whole check's CPU budget."""
        process = self._process
        if process is not None and (not process.alive
                                    or process.cpu_seconds() > self.limits.cpu_s):
            process.close()
            process = None
        if process is None:
            lifetime = replace(self.limits, cpu_s=LIFETIME_BUDGETS * self.limits.cpu_s)
            process = LiveProcess(self.sandbox, self.sandbox.inside(self.module), lifetime)
            self._process = process
            self.started += 1
        return process


def _run_result(got: Exchange, complete: bool) -> RunResult:
    """How the worker's process ended, from this check's point of view."""
    timed_out = got.ended in ("timeout", "cpu") or hit_cpu_limit(got.returncode)
    if complete and got.ended is None:
        returncode = 0  # answered everything and is still serving
    elif timed_out:
        returncode = None
    elif got.ended == "output":
        returncode = -signal.SIGKILL
    else:
        returncode = got.returncode
    return RunResult(returncode, "", got.stderr, timed_out, got.seconds,
                     got.ended == "output")
