"""Checks of the student's optimizers: update sequences against the course's equations.

Each optimizer gets the same parameters and the same ten gradients as the reference
(:mod:`reference.nn.optim`), enough steps for every term of its rule to matter (momentum
and running averages build up, Adam's bias corrections fade). The check watches the
arrays it handed over, as a network that holds references to them would: after every
``update(params, grads)`` the dict must still hold the very same arrays, and their
update ΔW must match the reference's within ``rtol`` of its size (SGD eq. 39, Momentum
40–41, AdaGrad 42–43, RMSProp 44–45, AdaDelta 46–49, Adam 50–55).

Adam runs a second time on gradients small enough for ε to matter, only to name the
form it is written in (:func:`grader.checks.api_variants.adam_form`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import api_variants
from grader.checks.api_cases import away_from_zero
from grader.checks.api_common import case_rng, compare, exchange, worker_problem
from grader.checks.api_layers import REPRODUCE
from grader.checks.base import Context, Verdict, check, failed, passed
from reference.nn.factory import build_optimizer

# The course's suggested settings, with learning rates large enough to show each rule.
HYPER = {
    "sgd": {"lr": 0.1},
    "momentum": {"lr": 0.1, "alpha": 0.9},
    "adagrad": {"lr": 0.1, "h0": 1e-8},
    "rmsprop": {"lr": 0.01, "rho": 0.9, "eps": 1e-8},
    "adadelta": {"rho": 0.95, "eps": 1e-6},
    "adam": {"alpha": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}
TASK_OF = {"sgd": "task3"}
STEPS = 10
TINY = 3e-7  # Adam's second run: |g| ~ 3e-7, where ε = 1e-8 moves ΔW by a few per cent


def _script(kind: str, params: dict[str, np.ndarray], grads: list[dict[str, np.ndarray]]
            ) -> list[dict[str, Any]]:
    return [{"op": "optimizer", "kind": kind, "hyper": HYPER[kind], "params": params},
            *({"op": "step", "grads": g} for g in grads)]


def optimizer_check(kind: str) -> Callable[[Context, dict[str, Any]], Verdict]:
    def run(ctx: Context, settings: dict[str, Any]) -> Verdict:
        rng = case_rng(ctx, f"{kind}.update")
        params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
        # Gradients of size ≥ 0.1: an ε of 1e-7 instead of the course's 1e-8 (common in
        # DLfS-style code) then stays far below the tolerance, while every real mistake
        # in an update rule changes ΔW by a factor.
        grads = [{k: away_from_zero(rng, v.shape) for k, v in params.items()}
                 for _ in range(STEPS)]
        reqs = _script(kind, params, grads)
        tiny = {"W": rng.normal(size=(2, 3))}
        tiny_grads = [{"W": TINY * away_from_zero(rng, (2, 3))} for _ in range(STEPS)]
        if kind == "adam":
            reqs += _script(kind, tiny, tiny_grads)
        ans = exchange(ctx, reqs)
        problem = worker_problem(ans, kind)
        if problem is not None:
            return problem
        details: dict[str, Any] = {"hyper": HYPER[kind], "steps": STEPS}
        verdict = _judge_steps(kind, params, grads, ans.answers[1 : STEPS + 1],
                               settings["rtol"], details)
        if verdict is not None:
            return verdict
        if kind == "adam":
            return _adam_form(tiny, tiny_grads, ans.answers[STEPS + 2 :], settings, details)
        return passed("optimizer.ok", details, kind=kind, steps=STEPS)

    return run


def _judge_steps(kind: str, params: dict[str, np.ndarray], grads: list[dict[str, np.ndarray]],
                 answers: list[dict[str, Any]], rtol: float, details: dict[str, Any]
                 ) -> Verdict | None:
    """Every step: the same arrays in the dict, updated in place by the reference's ΔW."""
    ref = build_optimizer(kind, HYPER[kind])
    current = {k: v.copy() for k, v in params.items()}
    for t, (g, answer) in enumerate(zip(grads, answers, strict=True), 1):
        replaced = [name for name, same in (answer.get("same") or {}).items() if not same]
        if replaced:
            return failed("optimizer.not_in_place", details, kind=kind, name=replaced[0],
                          step=t)
        before = {k: v.copy() for k, v in current.items()}
        ref.update(current, g)
        handed = answer.get("handed") or {}
        for name in params:
            student = handed.get(name)
            delta = student - before[name] if isinstance(student, np.ndarray) and \
                student.shape == before[name].shape else student
            verdict = compare(f"Δ{name} (t = {t})", delta, current[name] - before[name],
                              rtol, details)
            if verdict is not None:
                return verdict
    return None


def _adam_form(params: dict[str, np.ndarray], grads: list[dict[str, np.ndarray]],
               answers: list[dict[str, Any]], settings: dict[str, Any],
               details: dict[str, Any]) -> Verdict:
    """Name the form of a correct Adam from its updates at tiny gradients."""
    p, before, deltas = params["W"], params["W"], []
    for answer in answers:
        now = (answer.get("handed") or {}).get("W")
        if not isinstance(now, np.ndarray) or now.shape != p.shape:
            return passed("optimizer.ok", details, kind="adam", steps=STEPS)
        deltas.append(now - before)
        before = now
    form = api_variants.adam_form(p, [g["W"] for g in grads], deltas, HYPER["adam"],
                                  settings["rtol"])
    if form != api_variants.ADAM_CORRECTED_LR:
        return passed("optimizer.ok", details, kind="adam", steps=STEPS)
    details["variant"] = form
    if settings["strict"]:
        return failed("optimizer.strict_adam_corrected_lr", details)
    return passed("optimizer.ok_adam_corrected_lr", details, steps=STEPS)


for _kind in HYPER:
    check(f"{TASK_OF.get(_kind, 'A4')}.{_kind}.update", program=None, reproduce=REPRODUCE,
          rtol=1e-3, **({"strict": False} if _kind == "adam" else {}))(optimizer_check(_kind))
