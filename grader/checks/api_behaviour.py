"""Checks of what Dropout (A2, eq. 26–27) and BatchNorm (A3, eq. 28–38) must do.

Equivalent variants (inverted dropout, an unbiased running variance) pass with a note
that names them (``details["variant"]``); ``strict = true`` requires the course's form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import api_variants
from grader.checks.api_cases import EPS
from grader.checks.api_common import as_array, case_rng, compare, exchange, worker_problem
from grader.checks.api_layers import REPRODUCE
from grader.checks.base import Context, Verdict, check, failed, passed
from grader.results import Message
from reference.nn.batchnorm import batchnorm_forward_test

RATIO = 0.3


def _dropout_run(ctx: Context, x: np.ndarray, train: bool, extra: list[dict[str, Any]] = ()
                 ) -> tuple[Verdict | None, list[dict], np.ndarray | None]:
    """Build the student's dropout (ρ = RATIO), run it on ``x``: (problem, answers, output).

    The output is None when it is not an array of x's shape (``problem`` then says so).
    """
    reqs = [{"op": "layer", "kind": "dropout", "params": {}, "config": {"ratio": RATIO}},
            {"op": "forward", "x": x, "train": train}, *extra]
    ans = exchange(ctx, reqs)
    problem = worker_problem(ans, "dropout")
    if problem is not None:
        return problem, ans.answers, None
    y = as_array(ans.answers[1].get("y"))
    if y is None or y.shape != x.shape:
        return failed("api.wrong_shape", {}, what="dropout output",
                      got=str(getattr(y, "shape", None)), expected=str(x.shape)), ans.answers, None
    return None, ans.answers, y


@check("A2.dropout.share", program=None, reproduce=REPRODUCE, tolerance=0.03)
def dropout_share(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """In training a ρ share of the nodes output 0 (eq. 26), the others one multiple of
    their input: 1 in the course, 1/(1−ρ) in inverted dropout (judged by test_scaling)."""
    x = 1.0 + case_rng(ctx, "A2.dropout.share").uniform(0, 1, size=(200, 50))
    problem, _, y = _dropout_run(ctx, x, True)
    if problem is not None:
        return problem
    share = float(np.mean(y == 0))
    kept = y != 0
    details = {"share": share, "ratio": RATIO, "tolerance": settings["tolerance"]}
    if abs(share - RATIO) > settings["tolerance"]:
        return failed("dropout.wrong_share", details, share=f"{share:.3f}", ratio=RATIO)
    factor = float(np.median(y[kept] / x[kept]))
    if not np.allclose(y[kept], factor * x[kept], rtol=1e-9, atol=0):
        return failed("dropout.kept_not_proportional", details)
    details["factor"] = factor
    return passed("dropout.share_ok_factor", details, share=f"{share:.3f}", ratio=RATIO,
                  factor=f"{factor:.4g}")


@check("A2.dropout.test_scaling", program=None, reproduce=REPRODUCE, rtol=1e-9, strict=False)
def dropout_test_scaling(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Test time gives the expected training output: the course multiplies by (1 − ρ) at
    test time and passes kept nodes unchanged in training (§5.2); inverted dropout (CS231n)
    scales the kept nodes by 1/(1 − ρ) in training and passes everything at test time."""
    rng = case_rng(ctx, "A2.dropout.test")
    x_train, x = 1.0 + rng.uniform(0, 1, size=(20, 50)), rng.normal(size=(6, 9))
    problem, answers, y_train = _dropout_run(ctx, x_train, True,
                                             [{"op": "forward", "x": x, "train": False}])
    if problem is not None:
        return problem
    kept = y_train != 0
    train = float(np.median(y_train[kept] / x_train[kept])) if np.any(kept) else 0.0
    details: dict[str, Any] = {"ratio": RATIO, "train_factor": train}
    course = compare("y (train=False)", answers[2].get("y"), (1 - RATIO) * x,
                     settings["rtol"], details)
    if course is None and abs(train - 1.0) <= 1e-9:
        return passed("dropout.test_ok", details, ratio=RATIO)
    if compare("y", answers[2].get("y"), x, settings["rtol"], {}) is None and \
            abs(train * (1 - RATIO) - 1.0) <= 1e-9:
        details["variant"] = api_variants.INVERTED_DROPOUT
        if settings["strict"]:
            return failed("dropout.strict_inverted", details, ratio=RATIO)
        return passed("dropout.test_ok_inverted", details, ratio=RATIO)
    test = as_array(answers[2].get("y"))
    shown = f"{float(np.median(test / x)):.4g}" if test is not None and \
        test.shape == x.shape else "?"
    return failed("dropout.scaling_inconsistent", details, train=f"{train:.4g}", test=shown,
                  course=f"{1 - RATIO:g}", inverse=f"{1 / (1 - RATIO):.4g}")


@check("A2.dropout.backward", program=None, reproduce=REPRODUCE, rtol=1e-9)
def dropout_backward(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """The gradient is the derivative of the student's own training forward: the upstream
    gradient times y/x, the factor each node was multiplied by (eq. 27: the 0/1 mask;
    inverted dropout: mask/(1 − ρ)). The inputs are ≥ 1, so y/x is defined everywhere."""
    rng = case_rng(ctx, "A2.dropout.backward")
    x, g = 1.0 + rng.uniform(0, 1, size=(8, 12)), rng.normal(size=(8, 12))
    problem, answers, y = _dropout_run(ctx, x, True, [{"op": "backward", "dout": g}])
    if problem is not None:
        return problem
    verdict = compare("∂E/∂x", answers[2].get("dx"), g * (y / x), settings["rtol"], {})
    if verdict is not None and verdict.message.key == "api.mismatch":
        verdict.message = Message("dropout.backward_not_own", verdict.message.params)
    return verdict or passed("dropout.backward_ok_own", {})


@check("A3.batchnorm.test_time", program=None, reproduce=REPRODUCE, rtol=1e-4, steps=40,
       strict=False)
def batchnorm_test_time(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """After training passes, test mode uses the running E[x], Var[x] in eq. 38.

    Momentum 0.7 and 40 passes make the starting values of the running statistics
    (zeros or ones, both common) irrelevant (0.7⁴⁰ ≈ 6e-7): only the estimates count.
    Not 0.5, where a running average with m and 1 − m swapped would look right.
    Two test passes: the second catches statistics updated at test time. Features of
    standard deviation 2–5 keep every ε convention far below the tolerance. A running
    variance averaged from the unbiased B/(B−1)·σ_B² (PyTorch) is an accepted variant.
    """
    rng = case_rng(ctx, "A3.batchnorm.test_time")
    d, momentum = 5, 0.7
    params = {"gamma": rng.uniform(0.5, 1.5, d), "beta": rng.normal(size=d)}
    config = {"eps": EPS, "momentum": momentum}
    shift, scale = rng.normal(3, 1, size=d), rng.uniform(2, 5, size=d)
    batches = [shift + scale * rng.normal(size=(8, d)) for _ in range(settings["steps"])]
    tests = [shift + scale * rng.normal(size=(6, d)) for _ in range(2)]
    reqs = [{"op": "layer", "kind": "batchnorm", "params": params, "config": config},
            *({"op": "forward", "x": x, "train": True} for x in batches),
            *({"op": "forward", "x": t, "train": False} for t in tests)]
    ans = exchange(ctx, reqs)
    problem = worker_problem(ans, "batchnorm")
    if problem is not None:
        return problem
    details: dict[str, Any] = {"momentum": momentum, "steps": settings["steps"]}
    outputs = [ans.answers[-2 + n].get("y") for n in range(2)]
    verdict = _test_outputs(outputs, tests, params, batches, momentum, False,
                            settings["rtol"], details)
    if verdict is None:
        return passed("batchnorm.test_ok", details, steps=settings["steps"])
    if _test_outputs(outputs, tests, params, batches, momentum, True, settings["rtol"],
                     {}) is not None:
        return verdict
    details["variant"] = api_variants.UNBIASED_RUNNING_VAR
    if settings["strict"]:
        return failed("batchnorm.strict_unbiased_running_var", details)
    return passed("batchnorm.test_ok_unbiased", details, steps=settings["steps"])


def _test_outputs(outputs: list[Any], tests: list[np.ndarray], params: dict[str, np.ndarray],
                  batches: list[np.ndarray], momentum: float, unbiased: bool, rtol: float,
                  details: dict[str, Any]) -> Verdict | None:
    """Compare the test-time outputs with eq. 38 on running averages of the given kind."""
    mean, var = api_variants.running_moments(batches, momentum, unbiased)
    for n, (y, t) in enumerate(zip(outputs, tests, strict=True)):
        expected = batchnorm_forward_test(t, params["gamma"], params["beta"], mean, var, EPS)
        verdict = compare(f"y (train=False, {n + 1})", y, expected, rtol, details)
        if verdict is not None:
            return verdict
    return None
