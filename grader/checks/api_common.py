"""What the API checks share: seeded cases, one worker run per check, comparisons.

API checks exercise the student's layers and optimizers through the worker
(:mod:`grader.sandbox.inside.worker`) and compare against the reference
(:mod:`reference.nn.factory`), which runs here, in the grader process, on the same inputs.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.api_client import Answers, CheckWorker
from grader.checks.api_cases import LayerCase
from grader.checks.base import Context, Verdict, failed
from grader.checks.discovery_words import not_attempted
from grader.checks.words import ended
from grader.results import Message

API_LIMITS_KEY = "api"


def case_rng(ctx: Context, check_id: str) -> np.random.Generator:
    """A generator seeded by the plan and the check, so each check has its own cases."""
    return np.random.default_rng([ctx.plan.seeds.get("sample", 0), zlib.crc32(check_id.encode())])


# What the worker used for each kind during the running check ("affine" → "common/
# layers.py: Affine"); grade.run_check shows it with the check's details.
_FOUND: ContextVar[dict[str, str] | None] = ContextVar("found", default=None)


@contextmanager
def recording_found() -> Iterator[dict[str, str]]:
    """Collect, for the checks run inside, which implementation the worker found per kind."""
    found: dict[str, str] = {}
    token = _FOUND.set(found)
    try:
        yield found
    finally:
        _FOUND.reset(token)


def exchange(ctx: Context, requests: list[dict[str, Any]]) -> Answers:
    """One check's requests to the submission's check worker (one kept per submission)."""
    worker = ctx.keep(CheckWorker, lambda: CheckWorker(ctx.sandbox_for(None),
                                                       ctx.plan.limits_for(API_LIMITS_KEY)))
    with ctx.slots.hold():
        ans = worker.exchange(requests)
    found = _FOUND.get()
    if found is not None:
        for request, answer in zip(requests, ans.answers, strict=False):
            where = answer.get("found")
            if "kind" in request and isinstance(where, str):
                found[str(request["kind"])] = where[:200]  # the student's file names
    return ans


def worker_problem(ans: Answers, kind: str) -> Verdict | None:
    """The verdict when the worker could not answer everything, else None."""
    error = ans.first_error()
    if error is not None and error.get("not_attempted"):
        return Verdict("not_attempted", not_attempted(kind, error.get("reason")))
    if error is not None:
        return Verdict("failed", Message("api.raised", {"kind": kind, "error": error["error"],
                       "where": error.get("where") or "?"}), {"trace": error.get("trace", "")})
    if not ans.complete:
        outcome = "timeout" if ans.run.timed_out else "error"
        return Verdict(outcome, Message("api.worker_died", {"kind": kind,
                       "ended": ended(ans.run)}),
                       {"stderr_tail": ans.run.stderr_tail()})
    return None


@dataclass
class Script:
    """The requests of several cases, sent in one exchange, and which answers are whose."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def add(self, requests: list[dict[str, Any]]) -> None:
        start = len(self.requests)
        self.requests += requests
        self.spans.append((start, len(self.requests)))


def run_cases(ctx: Context, kind: str, cases: list[LayerCase], script: Script
              ) -> tuple[Verdict | None, list[list[dict[str, Any]] | None]]:
    """Send ``script`` (one span per case); the problem, else each case's answers.

    An optional case the layer raised on is refused (None), not a failure; an exception
    in a required case fails the check naming the case.
    """
    ans = exchange(ctx, script.requests)
    refused = {n for n, (case, (a, b)) in enumerate(zip(cases, script.spans, strict=True))
               if case.optional and any(not r.get("ok") for r in ans.answers[a:b])}
    kept = [(n, i) for n, (a, b) in enumerate(script.spans) if n not in refused
            for i in range(a, b)]
    answered = [(n, ans.answers[i]) for n, i in kept if i < len(ans.answers)]
    problem = worker_problem(Answers([a for _, a in answered], ans.run, len(kept)), kind)
    if problem is not None:
        if problem.message.key == "api.raised":
            n = next(n for n, a in answered if not a.get("ok"))
            problem.message = Message("api.case_raised", {**problem.message.params,
                                                          "case": cases[n].label})
        return problem, []
    return None, [None if n in refused else ans.answers[a:b]
                  for n, (a, b) in enumerate(script.spans)]


def as_array(value: Any) -> np.ndarray | None:
    """A numeric ndarray, or None for anything else the student code returned."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    if isinstance(value, int | float):
        return np.asarray(value, dtype=np.float64)
    return None


def compare(what: str, got: Any, expected: np.ndarray, rtol: float,
            details: dict[str, Any]) -> Verdict | None:
    """None when ``got`` matches ``expected`` within ``rtol`` of its scale, else a failure.

    The error is max|got − expected| / max(1e-12, max|expected|), so one tolerance
    serves tensors of any magnitude.
    """
    arr = as_array(got)
    if arr is None:
        return failed("api.not_an_array", details, what=what, got=type(got).__name__)
    if arr.shape != expected.shape:
        return failed("api.wrong_shape", details, what=what, got=str(arr.shape),
                      expected=str(expected.shape))
    if not np.all(np.isfinite(arr)):
        return failed("api.not_finite", details, what=what)
    error = float(np.max(np.abs(arr - expected), initial=0.0)
                  / max(1e-12, float(np.max(np.abs(expected), initial=0.0))))
    details.setdefault("errors", {})[what] = error
    if error > rtol:
        worst = int(np.argmax(np.abs(arr - expected)))
        index = np.unravel_index(worst, expected.shape)
        return failed("api.mismatch", details, what=what, error=f"{error:.2e}",
                      rtol=f"{rtol:.0e}", index=str(tuple(int(i) for i in index)),
                      got=f"{arr[index]:.6g}", expected=f"{expected[index]:.6g}")
    return None
