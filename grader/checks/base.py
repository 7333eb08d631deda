"""What a check is: a small named unit that judges one property of a submission.

A check function receives the :class:`Context` and its plan settings and returns a
:class:`Verdict`. The runner turns verdicts into :class:`~grader.results.CheckResult`
records, so every check yields a record even when the student code hangs or crashes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.handout import Handout
from grader.plan import Plan
from grader.results import Message, Outcome
from grader.sandbox import RunResult, Sandbox
from grader.submission import Submission


@dataclass
class Verdict:
    """A check's judgement; ``fraction`` of the weight is scored (default: all or nothing).

    ``reproduce``: a command that reproduces this very result from the student's folder
    (e.g. with the index that failed); None falls back to the check's own.
    """

    outcome: Outcome
    message: Message
    details: dict[str, Any] = field(default_factory=dict)
    fraction: float | None = None
    reproduce: str | None = None

    def reproduced_by(self, command: str) -> Verdict:
        """This verdict with ``command`` as the way to reproduce it."""
        return replace(self, reproduce=command)

    @property
    def score_fraction(self) -> float:
        if self.fraction is not None:
            return self.fraction
        return 1.0 if self.outcome in ("passed", "unverified") else 0.0


def passed(key: str, details: dict[str, Any] | None = None, **params: Any) -> Verdict:
    return Verdict("passed", Message(key, params), details or {})


def failed(key: str, details: dict[str, Any] | None = None, **params: Any) -> Verdict:
    return Verdict("failed", Message(key, params), details or {})


SKIPPED_AFTER_TIMEOUT = "(not run: an earlier run of this program timed out)"

CheckFn = Callable[["Context", dict[str, Any]], Verdict]


@dataclass(frozen=True)
class Check:
    """A registered check: its id (``task1.output_format``), the program it needs, defaults.

    ``program`` is None for checks of the Python API, which find out themselves whether
    the submission has what they need.
    """

    id: str
    program: str | None
    fn: CheckFn
    defaults: dict[str, Any]
    reproduce: str

    @property
    def task(self) -> str:
        return self.id.split(".", 1)[0]


REGISTRY: dict[str, Check] = {}


def check(check_id: str, *, program: str | None, reproduce: str = "",
          **defaults: Any) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check ``check_id``; keyword arguments are its plan settings."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id!r} registered twice")
        REGISTRY[check_id] = Check(check_id, program, fn, defaults, reproduce)
        return fn

    return register


class Context:
    """What checks share while grading one submission: the sandbox, data, plan, run cache.

    ``data`` is what results.json records about the data set (``kind``: ``embedded`` or
    ``idx``, ``n_train``, ``n_test``, …); ``data_dir`` the folder given with
    ``--data-dir``, if any (reproduce commands pass it on to ``grader handout``).
    """

    def __init__(self, submission: Submission, sandbox: Sandbox, handout: Handout, plan: Plan,
                 jobs: int = 2, snapshot: Path | None = None,
                 data: dict[str, Any] | None = None, data_dir: Path | None = None) -> None:
        self.submission, self.sandbox, self.handout, self.plan = (
            submission, sandbox, handout, plan)
        # The submission's code and report as copied before any program ran (see
        # grader.submission.make_workspace); without one, the handed-in folder itself.
        self.snapshot = snapshot if snapshot is not None else submission.root
        self.data, self.data_dir = data or {}, data_dir
        self.jobs = max(1, jobs)
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def run(self, task: str, stdin: str = "") -> RunResult:
        """Run a task's program once in the sandbox with the plan's limits for that task."""
        return self.sandbox.run(["python", f"{task}.py"], stdin, self.plan.limits_for(task))

    def run_many(self, task: str, stdins: Sequence[str]) -> list[RunResult]:
        """Run a program once per input, ``jobs`` at a time, results in input order.

        After one run times out the runs not yet started are skipped (and reported as
        timed out): a program that hangs should cost one timeout, not hundreds.
        """
        hung = threading.Event()

        def one(stdin: str) -> RunResult:
            if hung.is_set():
                return RunResult(None, "", SKIPPED_AFTER_TIMEOUT, True, 0.0, False)
            result = self.run(task, stdin)
            if result.timed_out:
                hung.set()
            return result

        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return list(pool.map(one, stdins))

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute a shared result (e.g. the one training run of task 3) at most once."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]
