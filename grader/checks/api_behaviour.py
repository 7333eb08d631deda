"""Checks of what Dropout (A2, eq. 26–27) and BatchNorm (A3, eq. 28–38) must do."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks.api_common import as_array, case_rng, compare, exchange, worker_problem
from grader.checks.api_layers import REPRODUCE
from grader.checks.base import Context, Verdict, check, failed, passed
from reference.nn.factory import build_layer

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
    """In training a ρ share of the nodes output 0 and the others pass unchanged (eq. 26)."""
    x = 1.0 + case_rng(ctx, "A2.dropout.share").uniform(0, 1, size=(200, 50))
    problem, _, y = _dropout_run(ctx, x, True)
    if problem is not None:
        return problem
    share = float(np.mean(y == 0))
    kept = y != 0
    details = {"share": share, "ratio": RATIO, "tolerance": settings["tolerance"]}
    if abs(share - RATIO) > settings["tolerance"]:
        return failed("dropout.wrong_share", details, share=f"{share:.3f}", ratio=RATIO)
    if not np.allclose(y[kept], x[kept]):
        return failed("dropout.scaled_in_training", details,
                      factor=f"{float(np.median(y[kept] / x[kept])):.3f}")
    return passed("dropout.share_ok", details, share=f"{share:.3f}", ratio=RATIO)


@check("A2.dropout.test_scaling", program=None, reproduce=REPRODUCE, rtol=1e-9)
def dropout_test_scaling(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """At test time every node outputs (1 − ρ) times its input (§5.2)."""
    x = case_rng(ctx, "A2.dropout.test").normal(size=(6, 9))
    problem, _, y = _dropout_run(ctx, x, False)
    if problem is not None:
        return problem
    verdict = compare("test-time output", y, (1 - RATIO) * x,
                      settings["rtol"], {"ratio": RATIO})
    return verdict or passed("dropout.test_ok", {"ratio": RATIO}, ratio=RATIO)


@check("A2.dropout.backward", program=None, reproduce=REPRODUCE, rtol=1e-9)
def dropout_backward(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """The gradient is the upstream gradient through the same 0/1 mask (eq. 27)."""
    rng = case_rng(ctx, "A2.dropout.backward")
    x, g = 1.0 + rng.uniform(0, 1, size=(8, 12)), rng.normal(size=(8, 12))
    problem, answers, y = _dropout_run(ctx, x, True, [{"op": "backward", "dout": g}])
    if problem is not None:
        return problem
    verdict = compare("gradient", answers[2].get("dx"), g * (y != 0), settings["rtol"], {})
    return verdict or passed("dropout.backward_ok", {})


@check("A3.batchnorm.test_time", program=None, reproduce=REPRODUCE, rtol=1e-4, steps=40)
def batchnorm_test_time(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """After training passes, test mode uses the running E[x], Var[x] in eq. 38.

    Momentum 0.7 and 40 passes make the starting values of the running statistics
    (zeros or ones, both common) irrelevant (0.7⁴⁰ ≈ 6e-7): only the estimates count.
    Not 0.5, where a running average with m and 1 − m swapped would look right.
    Two test passes: the second catches statistics updated at test time.
    """
    rng = case_rng(ctx, "A3.batchnorm.test_time")
    d = 5
    params = {"gamma": rng.uniform(0.5, 1.5, d), "beta": rng.normal(size=d)}
    config = {"eps": 1e-5, "momentum": 0.7}
    reqs = [{"op": "layer", "kind": "batchnorm", "params": params, "config": config}]
    ref = build_layer("batchnorm", params, config)
    shift, scale = rng.normal(3, 1, size=d), rng.uniform(1, 3, size=d)
    for _ in range(settings["steps"]):
        x = shift + scale * rng.normal(size=(8, d))
        reqs.append({"op": "forward", "x": x, "train": True})
        ref.forward(x, True)
    tests = [shift + scale * rng.normal(size=(6, d)) for _ in range(2)]
    reqs += [{"op": "forward", "x": t, "train": False} for t in tests]
    ans = exchange(ctx, reqs)
    problem = worker_problem(ans, "batchnorm")
    if problem is not None:
        return problem
    details: dict[str, Any] = {"momentum": 0.7, "steps": settings["steps"]}
    for n, t in enumerate(tests):
        verdict = compare(f"test-time output (pass {n + 1})", ans.answers[-2 + n].get("y"),
                          ref.forward(t, False), settings["rtol"], details)
        if verdict is not None:
            return verdict
    return passed("batchnorm.test_ok", details, steps=settings["steps"])
