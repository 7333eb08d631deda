"""What a check is: a small named unit that judges one property of a submission.

A check function receives the :class:`Context` and its plan settings and returns a
:class:`Verdict`. The runner turns verdicts into :class:`~grader.results.CheckResult`
records, so every check yields a record even when the student code hangs or crashes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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
    the submission has what they need. ``last`` checks run after every other check (they
    judge what the sandbox recorded during the others' runs).
    """

    id: str
    program: str | None
    fn: CheckFn
    defaults: dict[str, Any]
    reproduce: str
    last: bool = False

    @property
    def task(self) -> str:
        return self.id.split(".", 1)[0]


REGISTRY: dict[str, Check] = {}


def check(check_id: str, *, program: str | None, reproduce: str = "", last: bool = False,
          **defaults: Any) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check ``check_id``; keyword arguments are its plan settings."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id!r} registered twice")
        REGISTRY[check_id] = Check(check_id, program, fn, defaults, reproduce, last)
        return fn

    return register


# Which program reads what another one wrote: task 4 loads the parameters task 3 saved
# (§4.3.6). Programs in such a chain share the main workspace and run one after another;
# every other program, and the check worker, run beside them in a copy of the submission.
DEPENDS = {"task4": "task3"}
CHAIN = frozenset(DEPENDS) | frozenset(DEPENDS.values())


class Slots:
    """``n`` slots for sandboxed processes, shared by every check of one submission.

    Runs on the task 3 → task 4 chain (the longest path through a grading) are urgent:
    a free slot goes to them before any other waiting run.
    """

    def __init__(self, n: int) -> None:
        self._free, self._urgent_waiting = n, 0
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, urgent: bool = False) -> Iterator[None]:
        with self._cond:
            self._urgent_waiting += urgent
            while self._free == 0 or (not urgent and self._urgent_waiting):
                self._cond.wait()
            self._urgent_waiting -= urgent
            self._free -= 1
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()


@dataclass
class _Once:
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    value: Any = None


class Context:
    """What checks share while grading one submission: the sandbox, data, plan, run cache.

    ``data`` is what results.json records about the data set (``kind``: ``embedded`` or
    ``idx``, ``n_train``, ``n_test``, …); ``data_dir`` the folder given with
    ``--data-dir``, if any (reproduce commands pass it on to ``grader handout``).
    ``side_sandbox`` (default: ``sandbox``) is a second copy of the submission for the
    programs outside :data:`CHAIN` and for the check worker, so that what they write
    never reaches the workspace whose files task 3 is judged by. At most ``jobs``
    sandboxed processes run at once (:class:`Slots`).
    """

    def __init__(self, submission: Submission, sandbox: Sandbox, handout: Handout, plan: Plan,
                 jobs: int = 2, snapshot: Path | None = None,
                 data: dict[str, Any] | None = None, data_dir: Path | None = None,
                 side_sandbox: Sandbox | None = None) -> None:
        self.submission, self.sandbox, self.handout, self.plan = (
            submission, sandbox, handout, plan)
        # The submission's code and report as copied before any program ran (see
        # grader.submission.make_workspace); without one, the handed-in folder itself.
        self.snapshot = snapshot if snapshot is not None else submission.root
        self.data, self.data_dir = data or {}, data_dir
        self.side_sandbox = side_sandbox or sandbox
        self.jobs = max(1, jobs)
        self.slots = Slots(self.jobs)
        self._cache: dict[Any, _Once] = {}
        self._lock = threading.Lock()
        self._kept: list[Any] = []
        self._at: dict[str, dict[int, RunResult]] = {}  # task → index → its run
        self._at_locks: dict[str, threading.Lock] = {}

    def sandbox_for(self, task: str | None) -> Sandbox:
        """The sandbox a program (None: the check worker) runs in."""
        return self.sandbox if task in CHAIN else self.side_sandbox

    def run(self, task: str, stdin: str = "") -> RunResult:
        """Run a task's program once in the sandbox with the plan's limits for that task."""
        with self.slots.hold(urgent=task in CHAIN):
            return self.sandbox_for(task).run(["python", f"{task}.py"], stdin,
                                              self.plan.limits_for(task))

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

    def run_at(self, task: str, indices: Sequence[int]) -> list[RunResult]:
        """The program's run on each test image index (``"i\\n"`` on stdin), in order.

        Each index runs at most once per grading: checks that ask about the same image
        (accuracy, consistency, planted duplicates) share its run. Runs skipped after a
        timeout are returned but not kept.
        """
        with self._lock:
            done = self._at.setdefault(task, {})
            lock = self._at_locks.setdefault(task, threading.Lock())
        with lock:
            todo = [i for i in dict.fromkeys(indices) if i not in done]
            fresh = dict(zip(todo, self.run_many(task, [f"{i}\n" for i in todo]), strict=True))
            done.update({i: r for i, r in fresh.items() if r.stderr != SKIPPED_AFTER_TIMEOUT})
            return [done.get(i) or fresh[i] for i in indices]

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute a shared result (e.g. the one training run of task 3) at most once.

        Callers of the same key wait for the first; other keys compute meanwhile.
        """
        with self._lock:
            entry = self._cache.setdefault(key, _Once())
        with entry.lock:
            if not entry.done:
                entry.value, entry.done = compute(), True
        return entry.value

    def keep(self, key: Any, make: Callable[[], Any]) -> Any:
        """Like :meth:`once` for a resource (a live worker): closed by :meth:`close`."""
        def compute() -> Any:
            value = make()
            with self._lock:
                self._kept.append(value)
            return value

        return self.once(key, compute)

    def blocked_imports(self) -> list[dict[str, Any]]:
        """Every import the guard refused in this grading so far, in both sandboxes.

        Closes the kept check worker first: a live process hands its records over when
        it ends.
        """
        self.close()
        return [*self.sandbox.blocked_imports(),
                *(self.side_sandbox.blocked_imports() if self.side_sandbox is not self.sandbox
                  else [])]

    def close(self) -> None:
        """Close what :meth:`keep` made, newest first."""
        with self._lock:
            # Kept listed: a closed worker that is used again starts a process of its
            # own, which the next close must close too.
            kept = self._kept[::-1]
        for value in kept:
            value.close()
