"""Checks of the student's layers through the Python API (tasks 3, A1–A3, A6, A7).

For every layer kind: ``<task>.<kind>.forward`` compares outputs with the reference on
seeded cases, ``<task>.<kind>.backward`` checks the student's gradients against
numerical differences of the student's own forward (see :mod:`grader.checks.gradcheck`).
Dropout and BatchNorm get the checks of their own behaviour the course defines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks.api_common import case_rng, compare, exchange, worker_problem
from grader.checks.base import Context, Verdict, check, failed, passed
from grader.checks.gradcheck import GradCase, add_requests, evaluate
from grader.checks.reproduce import GRADE_HERE
from reference.nn.factory import build_layer

TASK_OF = {
    "affine": "task3", "sigmoid": "task3", "softmax_cross_entropy": "task3", "relu": "A1",
    "dropout": "A2", "batchnorm": "A3", "conv2d": "A6", "maxpool2d": "A7",
}
REPRODUCE = GRADE_HERE

Case = tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]


# --- seeded cases ------------------------------------------------------------------------


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |v| ≥ 0.1, so a kink at 0 is never within a finite-difference step."""
    return rng.choice([-1.0, 1.0], size=shape) * (0.1 + np.abs(rng.normal(size=shape)))


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.05 apart, so no pooling window has a tie."""
    return (rng.permutation(int(np.prod(shape))) * 0.05 - 1.0).reshape(shape) \
        + rng.uniform(0, 0.01, size=shape)


def cases(kind: str, rng: np.random.Generator) -> list[Case]:
    """Seeded (params, config, x) cases for ``kind``: odd sizes, strides, paddings."""
    b, d = int(rng.integers(4, 8)), int(rng.integers(3, 9))
    if kind == "affine":
        m = int(rng.integers(2, 7))
        return [({"W": rng.normal(size=(m, d)), "b": rng.normal(size=m)}, {},
                 rng.normal(size=(b, d)))]
    if kind == "sigmoid":
        return [({}, {}, rng.normal(0, 3, size=(b, d)))]
    if kind == "relu":
        return [({}, {}, away_from_zero(rng, (b, d)))]
    if kind == "batchnorm":
        x = rng.normal(1.0, 2.0, size=(b, d))
        x[:, 0] = 0.7  # a constant feature: only ε keeps its normalisation finite
        return [({"gamma": rng.uniform(0.5, 1.5, d), "beta": rng.normal(size=d)},
                 {"eps": 1e-5, "momentum": 0.9}, x)]
    if kind == "conv2d":
        out = []
        for stride, pad, k in ((1, 0, 3), (2, 1, 3), (1, 2, 2)):
            c, f = int(rng.integers(1, 4)), int(rng.integers(2, 4))
            h, w = int(rng.integers(5, 8)), int(rng.integers(5, 8))
            out.append(({"W": rng.normal(size=(f, c, k, k)), "b": rng.normal(size=f)},
                        {"stride": stride, "pad": pad}, rng.normal(size=(2, c, h, w))))
        return out
    if kind == "maxpool2d":
        return [({}, {"size": 2, "stride": 2}, _distinct(rng, (2, 3, 6, 8))),
                ({}, {"size": 3, "stride": 2}, _distinct(rng, (2, 2, 7, 7)))]
    raise ValueError(kind)


def _labels(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 10, size=n)


# --- forward equivalence -----------------------------------------------------------------


def forward_check(kind: str) -> Callable[[Context, dict[str, Any]], Verdict]:
    def run(ctx: Context, settings: dict[str, Any]) -> Verdict:
        rng = case_rng(ctx, f"{kind}.forward")
        reqs, expected = [], []
        for params, config, x in cases(kind, rng):
            reqs += [{"op": "layer", "kind": kind, "params": params, "config": config},
                     {"op": "forward", "x": x, "train": kind == "batchnorm"}]
            expected.append((f"output for input {x.shape} {config or ''}".strip(),
                             build_layer(kind, params, config).forward(x, kind == "batchnorm")))
        return _judge_outputs(ctx, kind, reqs, expected, settings["rtol"], every=2)

    return run


def softmax_forward(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Cross-entropy of ordinary, huge (overflow, eq. 5–6) and tied logits."""
    rng = case_rng(ctx, "softmax.forward")
    logits = [rng.normal(0, 1, size=(6, 10)),
              rng.normal(0, 1, size=(5, 10)) + np.array([[1000.0], [-1000], [0], [800], [5]]),
              np.zeros((4, 10))]
    reqs, expected = [], []
    for a in logits:
        labels = _labels(rng, len(a))
        reqs += [{"op": "layer", "kind": "softmax_cross_entropy", "params": {}, "config": {}},
                 {"op": "loss", "x": a, "labels": labels}]
        ref = build_layer("softmax_cross_entropy", {}, {})
        name = "loss of large logits" if np.abs(a).max() > 100 else "loss"
        expected.append((name, np.asarray(ref.forward(a, labels))))
    return _judge_outputs(ctx, "softmax_cross_entropy", reqs, expected, settings["rtol"],
                          every=2, field="loss")


def _judge_outputs(ctx: Context, kind: str, reqs: list[dict[str, Any]],
                   expected: list[tuple[str, np.ndarray]], rtol: float, every: int,
                   field: str = "y") -> Verdict:
    ans = exchange(ctx, reqs)
    problem = worker_problem(ans, kind)
    if problem is not None:
        return problem
    details: dict[str, Any] = {"cases": len(expected)}
    for n, (what, value) in enumerate(expected):
        verdict = compare(what, ans.answers[every * n + every - 1].get(field), value, rtol,
                          details)
        if verdict is not None:
            return verdict
    return passed("api.forward_ok", details, kind=kind, cases=len(expected))


# --- backward by numerical differences ---------------------------------------------------


def backward_check(kind: str) -> Callable[[Context, dict[str, Any]], Verdict]:
    def run(ctx: Context, settings: dict[str, Any]) -> Verdict:
        rng = case_rng(ctx, f"{kind}.backward")
        grad_cases = []
        for params, config, x in cases(kind, rng)[:2]:
            y = build_layer(kind, params, config).forward(x, True)
            grad_cases.append(GradCase(kind, params, config, x,
                                       upstream=rng.normal(size=np.shape(y))))
        return judge_gradients(ctx, kind, grad_cases, rng, settings["threshold"])

    return run


def judge_gradients(ctx: Context, kind: str, grad_cases: list[GradCase],
                    rng: np.random.Generator, threshold: float) -> Verdict:
    reqs: list[dict[str, Any]] = []
    for case in grad_cases:
        add_requests(case, rng, reqs)
    ans = exchange(ctx, reqs)
    problem = worker_problem(ans, kind)
    if problem is not None:
        return problem
    errors, worst = {}, []
    for case in grad_cases:
        try:
            _, tensors = evaluate(case, ans)
        except (ValueError, TypeError, KeyError) as e:
            return failed("api.bad_gradient", {}, kind=kind, reason=str(e))
        for t in tensors:
            errors[t.name] = max(errors.get(t.name, 0.0), t.error)
            worst += t.worst
    worst.sort(key=lambda w: -w["abs_error"])
    details = {"errors": errors, "threshold": threshold, "worst": worst[:8]}
    bad = {name: err for name, err in errors.items() if not err <= threshold}
    if bad:
        name = max(bad, key=bad.get)
        return failed("api.gradient_wrong", details, kind=kind, tensor=name,
                      error=f"{bad[name]:.2e}", threshold=f"{threshold:.0e}")
    return passed("api.gradient_ok", details, kind=kind, tensors=", ".join(errors),
                  error=f"{max(errors.values()):.1e}")


def softmax_backward(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Numerical check at moderate logits, then eq. 12 itself at logits of ±1000."""
    rng = case_rng(ctx, "softmax.backward")
    # Moderate spread: no class probability is tiny, so the common "+1e-7 inside the log"
    # of DLfS-style code stays far below the threshold.
    grad_cases = [GradCase("softmax_cross_entropy", {}, {}, rng.normal(0, 1, size=(5, 10)),
                           labels=_labels(rng, 5))]
    verdict = judge_gradients(ctx, "softmax_cross_entropy", grad_cases, rng,
                              settings["threshold"])
    if verdict.outcome != "passed":
        return verdict
    a = rng.normal(0, 1, size=(4, 10)) + np.array([[1000.0], [-1000.0], [700.0], [0.0]])
    labels = _labels(rng, 4)
    ans = exchange(ctx, [{"op": "layer", "kind": "softmax_cross_entropy", "params": {},
                          "config": {}}, {"op": "loss", "x": a, "labels": labels},
                         {"op": "backward", "dout": None}])
    problem = worker_problem(ans, "softmax_cross_entropy")
    if problem is not None:
        return problem
    ref = build_layer("softmax_cross_entropy", {}, {})
    ref.forward(a, labels)
    return compare("gradient at logits of ±1000 (eq. 12)", ans.answers[2].get("dx"),
                   ref.backward(), settings["threshold"], verdict.details) or verdict


for _kind in ("affine", "sigmoid", "relu", "conv2d", "maxpool2d", "batchnorm"):
    check(f"{TASK_OF[_kind]}.{_kind}.forward", program=None, reproduce=REPRODUCE,
          rtol=1e-4 if _kind == "batchnorm" else 1e-6)(forward_check(_kind))
    check(f"{TASK_OF[_kind]}.{_kind}.backward", program=None, reproduce=REPRODUCE,
          threshold=1e-5)(backward_check(_kind))
# Looser for the loss: DLfS-style code adds 1e-7 inside the log, which is not a mistake.
check("task3.softmax_cross_entropy.forward", program=None, reproduce=REPRODUCE,
      rtol=1e-3)(softmax_forward)
check("task3.softmax_cross_entropy.backward", program=None, reproduce=REPRODUCE,
      threshold=1e-4)(softmax_backward)
