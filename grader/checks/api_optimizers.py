"""Checks of the student's optimizers: update sequences against the course's equations.

Each optimizer is given the same parameters and the same five gradients as the
reference (:mod:`reference.nn.optim`); every step's update ΔW must match the reference's
within ``rtol`` of its size (SGD eq. 39, Momentum 40–41, AdaGrad 42–43, RMSProp 44–45,
AdaDelta 46–49, Adam 50–55).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks.api_common import case_rng, compare, exchange, worker_problem
from grader.checks.api_layers import REPRODUCE, away_from_zero
from grader.checks.base import Context, Verdict, check, passed
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
STEPS = 5


def optimizer_check(kind: str) -> Callable[[Context, dict[str, Any]], Verdict]:
    def run(ctx: Context, settings: dict[str, Any]) -> Verdict:
        rng = case_rng(ctx, f"{kind}.update")
        params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
        # Gradients of size ≥ 0.1: an ε of 1e-7 instead of the course's 1e-8 (common in
        # DLfS-style code) then stays far below the tolerance, while every real mistake
        # in an update rule changes ΔW by a factor.
        grads = [{k: away_from_zero(rng, v.shape) for k, v in params.items()}
                 for _ in range(STEPS)]
        reqs = [{"op": "optimizer", "kind": kind, "hyper": HYPER[kind], "params": params}]
        reqs += [{"op": "step", "grads": g} for g in grads]
        ans = exchange(ctx, reqs)
        problem = worker_problem(ans, kind)
        if problem is not None:
            return problem
        ref = build_optimizer(kind, HYPER[kind])
        current = {k: v.copy() for k, v in params.items()}
        details: dict[str, Any] = {"hyper": HYPER[kind], "steps": STEPS}
        for t, g in enumerate(grads, 1):
            before = {k: v.copy() for k, v in current.items()}
            ref.update(current, g)
            got = ans.answers[t].get("params") or {}
            for name in params:
                student = got.get(name)
                delta = student - before[name] if isinstance(student, np.ndarray) and \
                    student.shape == before[name].shape else student
                verdict = compare(f"update of {name} at step {t}", delta,
                                  current[name] - before[name], settings["rtol"], details)
                if verdict is not None:
                    return verdict
        return passed("optimizer.ok", details, kind=kind, steps=STEPS)

    return run


for _kind in HYPER:
    check(f"{TASK_OF.get(_kind, 'A4')}.{_kind}.update", program=None, reproduce=REPRODUCE,
          rtol=1e-3)(optimizer_check(_kind))
