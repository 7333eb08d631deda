"""Checks of the student's layers through the Python API (tasks 3, A1–A3, A6, A7).

For every layer kind, on the case matrix of :mod:`grader.checks.api_cases`:

- ``<task>.<kind>.forward`` compares the outputs with the reference (course-consistency);
- ``<task>.<kind>.backward`` checks the gradients. First, cheaply, on the object that ran
  forward and backward: an all-zero gradient where the reference's is not is a failure;
  forward must give a fresh object's answer again after backward (a layer that changes
  what it computes once backward was called fails); and when the forward agrees with the
  reference, every coordinate of every gradient must agree with the reference's. Then the
  gradients must match numerical differences of the student's OWN forward, each
  evaluation on a fresh object (:mod:`grader.checks.gradcheck`). A forward that follows
  an equivalent variant (or even a wrong formula) thus costs the forward check only, as
  long as backward is the derivative of that forward.

Dropout and BatchNorm get the checks of their own behaviour the course defines
(:mod:`grader.checks.api_behaviour`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import api_variants
from grader.checks.api_cases import (
    DEFAULT_RTOL,
    FORWARD_RTOL,
    LayerCase,
    cases,
    reference_forward,
    reference_gradients,
    windows_per_maximum,
)
from grader.checks.api_common import Script, as_array, case_rng, compare, run_cases
from grader.checks.base import Context, Verdict, check, failed, passed
from grader.checks.gradcheck import (
    label,
    numeric_gradient,
    numeric_request,
    probes,
    tensor_errors,
)
from grader.checks.reproduce import GRADE_HERE

TASK_OF = {
    "affine": "task3", "sigmoid": "task3", "softmax_cross_entropy": "task3", "relu": "A1",
    "dropout": "A2", "batchnorm": "A3", "conv2d": "A6", "maxpool2d": "A7",
}
REPRODUCE = GRADE_HERE
# Output after backward against a fresh object's: the same code on the same input.
SAME_OUTPUT_RTOL = 1e-9

Judge = Callable[[Context, dict[str, Any]], Verdict]


def _output(case: LayerCase, answer: dict[str, Any]) -> Any:
    return answer.get("loss" if case.is_loss else "y")


def _refused(matrix: list[LayerCase], answers: list) -> list[str]:
    return [c.label for c, a in zip(matrix, answers, strict=True) if a is None]


# --- forward equivalence -----------------------------------------------------------------


def forward_check(kind: str) -> Judge:
    def run(ctx: Context, settings: dict[str, Any]) -> Verdict:
        matrix = cases(kind, case_rng(ctx, f"{kind}.forward"))
        script = Script()
        for case in matrix:
            script.add([case.layer_request(), case.eval_request()])
        problem, answers = run_cases(ctx, kind, matrix, script)
        if problem is not None:
            return problem
        details: dict[str, Any] = {"cases": [c.label for c in matrix],
                                   "not_accepted": _refused(matrix, answers)}
        convention = None
        for case, got in zip(matrix, answers, strict=True):
            if got is None:
                continue
            y, expected = as_array(_output(case, got[1])), reference_forward(case)
            if y is not None and y.shape == expected.shape:
                if case.diagnostic and convention is None:
                    convention = api_variants.eps_convention(case, y)
                y, expected = case.compared(y), case.compared(expected)
            verdict = compare(f"{case.label}: y", _output(case, got[1]) if y is None else y,
                              expected, settings["rtol"], details)
            if verdict is not None:
                return verdict
        return _forward_passed(kind, details, convention, settings)

    return run


def _forward_passed(kind: str, details: dict[str, Any], convention: tuple[str, float] | None,
                    settings: dict[str, Any]) -> Verdict:
    cases_ok = len(details["cases"]) - len(details["not_accepted"])
    if convention is not None:
        details["eps_estimate"] = convention[1]
        if convention[0] == "outside":
            details["variant"] = api_variants.EPS_OUTSIDE_SQRT
            key = "batchnorm.strict_eps_outside" if settings.get("strict") \
                else "batchnorm.forward_ok_eps_outside"
            make = failed if settings.get("strict") else passed
            return make(key, details, cases=cases_ok, eps=f"{convention[1]:.0e}")
    if details["not_accepted"]:
        return passed("api.forward_ok_refused", details, kind=kind, cases=cases_ok,
                      refused="; ".join(details["not_accepted"]))
    return passed("api.forward_ok", details, kind=kind, cases=cases_ok)


# --- backward ----------------------------------------------------------------------------


def backward_check(kind: str) -> Judge:
    def run(ctx: Context, settings: dict[str, Any]) -> Verdict:
        rng = case_rng(ctx, f"{kind}.backward")
        matrix = cases(kind, rng, for_gradients=True)
        upstreams = [None if c.is_loss else rng.normal(size=np.shape(reference_forward(c)))
                     for c in matrix]
        script = Script()
        for case, g in zip(matrix, upstreams, strict=True):
            again = np.flip(case.x).copy()
            script.add([case.layer_request(), case.eval_request(),
                        {"op": "backward", "dout": g}, case.eval_request(again),
                        case.fresh_request(again)])
        problem, answers = run_cases(ctx, kind, matrix, script)
        if problem is not None:
            return problem
        details: dict[str, Any] = {"cases": [c.label for c in matrix],
                                   "not_accepted": _refused(matrix, answers),
                                   "threshold": settings["threshold"]}
        judged = []
        for case, g, got in zip(matrix, upstreams, answers, strict=True):
            if got is None:
                continue
            analytic, verdict = _state_checks(kind, case, g, got, settings["rtol"], details)
            if verdict is not None:
                return verdict
            judged.append((case, g, analytic))
        return _numeric_check(ctx, kind, judged, rng, settings["threshold"], details)

    return run


def _state_checks(kind: str, case: LayerCase, upstream: np.ndarray | None,
                  got: list[dict[str, Any]], rtol: float, details: dict[str, Any]
                  ) -> tuple[dict[str, np.ndarray], Verdict | None]:
    """The student's gradients, and the verdict of the cheap checks on one case (or None)."""
    back = got[2]
    analytic = {"x": back.get("dx"), **(back.get("grads") or {})}
    reference = reference_gradients(case, upstream)
    for name, expected in reference.items():
        value = as_array(analytic.get(name))
        if value is None:
            return analytic, failed("api.gradient_missing", details, kind=kind,
                                    tensor=label(name), case=case.label)
        if value.shape != expected.shape:
            return analytic, failed("api.wrong_shape", details, what=f"{case.label}: "
                                    f"{label(name)}", got=str(value.shape),
                                    expected=str(expected.shape))
        if not np.any(value) and np.any(np.abs(expected) > 1e-12):
            return analytic, failed("api.gradient_all_zero", details, kind=kind,
                                    tensor=label(name), case=case.label)
        analytic[name] = value
    verdict = _same_after_backward(kind, case, got, details)
    if verdict is not None:
        return analytic, verdict
    y, expected_y = _output(case, got[1]), reference_forward(case)
    # Whatever formula a forward follows, its output has the reference's shape.
    unusable = compare(f"{case.label}: y", y, expected_y, np.inf, details)
    if unusable is not None:
        return analytic, unusable
    if compare("y", y, expected_y, FORWARD_RTOL.get(kind, DEFAULT_RTOL), {}) is not None:
        return analytic, None  # another forward: judged against its own derivative only
    for name, expected in reference.items():
        verdict = compare(f"{case.label}: {label(name)}", analytic[name], expected, rtol,
                          details)
        if verdict is not None:
            return analytic, _overlap_hint(case, analytic[name], expected, rtol) or verdict
    return analytic, None


def _same_after_backward(kind: str, case: LayerCase, got: list[dict[str, Any]],
                         details: dict[str, Any]) -> Verdict | None:
    """Forward of another input on the object that ran backward, against a fresh object."""
    again, fresh = _output(case, got[3]), (got[4].get("values") or [None])[0]
    fresh_y = as_array(fresh)
    if fresh_y is None:
        return failed("api.not_an_array", details, what=f"{case.label}: y",
                      got=type(fresh).__name__)
    if compare("y", again, fresh_y, SAME_OUTPUT_RTOL, {}) is None:
        return None
    return failed("api.state_changed_output", details, kind=kind, case=case.label)


def _overlap_hint(case: LayerCase, got: np.ndarray, expected: np.ndarray, rtol: float
                  ) -> Verdict | None:
    """Max pooling whose ∂E/∂x is wrong only where a pixel is the maximum of ≥ 2 windows."""
    if case.kind != "maxpool2d" or got.shape != case.x.shape:
        return None
    wrong = np.abs(got - expected) > rtol * max(1e-12, float(np.max(np.abs(expected))))
    if np.any(wrong) and np.all(windows_per_maximum(case)[wrong] >= 2):
        return failed("maxpool2d.overlap_overwrite", {"cases": [case.label]}, case=case.label,
                      pixels=int(wrong.sum()))
    return None


def _numeric_check(ctx: Context, kind: str, judged: list, rng: np.random.Generator,
                   threshold: float, details: dict[str, Any]) -> Verdict:
    """Analytic gradients against centred differences of the student's forward, fresh
    objects for every evaluation."""
    script, coords = Script(), []
    for case, g, _ in judged:
        coords.append(probes(case, rng))
        script.add([numeric_request(case, g, coords[-1])])
    # Required now: a case accepted above cannot be refused by its perturbations.
    accepted = [dataclasses.replace(c, optional="") for c, _, _ in judged]
    problem, answers = run_cases(ctx, kind, accepted, script)
    if problem is not None:
        return problem
    errors: dict[str, float] = {}
    worst: list[dict[str, Any]] = []
    for (case, _, analytic), where, got in zip(judged, coords, answers, strict=True):
        numeric = numeric_gradient(got[0].get("values") or [], where)
        if numeric is None:
            return failed("api.not_finite", details, what=f"{case.label}: f(x ± h)")
        for t in tensor_errors(case, analytic, where, numeric):
            errors[t.name] = max(errors.get(t.name, 0.0), t.error)
            worst += t.worst
    worst.sort(key=lambda w: -w["abs_error"])
    details.update({"errors": errors, "worst": worst[:8]})
    bad = {name: err for name, err in errors.items() if not err <= threshold}
    if bad:
        name = max(bad, key=bad.get)
        case = next(w["case"] for w in worst if w["tensor"] == name)
        return failed("api.gradient_wrong_case", details, kind=kind, tensor=name,
                      error=f"{bad[name]:.2e}", threshold=f"{threshold:.0e}", case=case)
    return passed("api.gradient_ok", details, kind=kind, tensors=", ".join(errors),
                  error=f"{max(errors.values()):.1e}")


for _kind in ("affine", "sigmoid", "relu", "conv2d", "maxpool2d", "batchnorm",
              "softmax_cross_entropy"):
    _rtol = FORWARD_RTOL.get(_kind, DEFAULT_RTOL)
    _extra = {"strict": False} if _kind == "batchnorm" else {}
    check(f"{TASK_OF[_kind]}.{_kind}.forward", program=None, reproduce=REPRODUCE,
          rtol=_rtol, **_extra)(forward_check(_kind))
    # The loss's numbers are its own forward's: DLfS's "+1e-7 inside the log" makes its
    # (exact) backward differ from them by ~1e-7/p, so the loss gets a looser threshold.
    check(f"{TASK_OF[_kind]}.{_kind}.backward", program=None, reproduce=REPRODUCE,
          threshold=1e-4 if _kind == "softmax_cross_entropy" else 1e-5,
          rtol=_rtol)(backward_check(_kind))
