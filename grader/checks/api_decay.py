"""The check of the student's weight decay: the gradient it adds, and its penalty.

The course text asks for no weight decay; it is graded with A2, the course's
regularisation task (DLfS treats weight decay and Dropout together, §6.4, and the
ablations compare them on the train–test gap). The form graded is the reference's
(:class:`reference.nn.regularizers.L2`, DLfS §6.4.1): the penalty R = λ/2 Σ‖W‖² over
the weights, whose derivative λW is added to ∂E/∂W; biases are not decayed.

The student's decay gets the parameters and data gradients of a two-layer network
(``W1``, ``b1``, ``W2``, ``b2``) and λ. What it added to each gradient is fitted as a
multiple c·p of that parameter, so a failure says exactly what was written: no decay,
the wrong sign (c = −λ), 2λW (the derivative of λΣW², the ½ forgotten), λ/2·W, λ·sign(W)
(L1) or something else. Decay on the biases too (c = λ for b, as torch.optim.SGD's
``weight_decay`` does) is an equivalent variant: it passes with a note unless the plan
sets ``strict = true``. When the code has a penalty, it is evaluated twice (biases
doubled the second time) to read off its coefficients on Σ‖W‖² and Σ‖b‖²: they must be
those whose derivative is the gradient added.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import api_variants
from grader.checks.api_cases import away_from_zero
from grader.checks.api_common import as_array, case_rng, exchange, worker_problem
from grader.checks.api_layers import REPRODUCE
from grader.checks.base import Context, Verdict, check, failed, passed
from reference.nn.regularizers import L2

KIND = "weight_decay"
HYPER = {"lam": 0.1, "lr": 0.1}  # lr: for an SGD that takes the decay as an argument
SHAPES = {"W1": (5, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
# Factors of λ a wrong decay commonly has, by the message that names it.
WRONG_FACTORS = {-1.0: "weight_decay.sign", 2.0: "weight_decay.factor_two",
                 0.5: "weight_decay.factor_half"}


def is_weight(name: str) -> bool:
    return name.startswith("W")


def fit(term: np.ndarray, p: np.ndarray, scale: float) -> tuple[float, float]:
    """(c, r): ``term`` ≈ c·``p``, r = ‖term − c·p‖ / max(‖term‖, ``scale``).

    ``scale`` is the size of the term expected (‖λp‖): rounding noise in a term that
    should be 0 (an SGD's update read back) is then a small residual, not a shape.
    """
    c = float(np.vdot(term, p) / np.vdot(p, p))
    return c, float(np.linalg.norm(term - c * p)) / max(float(np.linalg.norm(term)), scale)


def _shown(value: float) -> str:
    """A factor as messages show it: rounding noise gone (no "-0", no "1e-16")."""
    return f"{round(value, 6) + 0.0:.4g}"


def _near(value: float, target: float, rtol: float) -> bool:
    return abs(value - target) <= rtol * max(1.0, abs(target))


@check("A2.weight_decay.gradient", program=None, reproduce=REPRODUCE, rtol=1e-6, strict=False)
def decay_check(ctx: Context, settings: dict[str, Any]) -> Verdict:
    rng = case_rng(ctx, "weight_decay.gradient")
    params = {k: away_from_zero(rng, s) for k, s in SHAPES.items()}
    grads = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    doubled = {k: v if is_weight(k) else 2.0 * v for k, v in params.items()}
    ans = exchange(ctx, [{"op": "regularizer", "kind": KIND, "hyper": HYPER},
                         {"op": "decay", "params": params, "grads": grads},
                         {"op": "penalty", "params": params},
                         {"op": "penalty", "params": doubled}])
    problem = worker_problem(ans, KIND)
    if problem is not None:
        return problem
    details: dict[str, Any] = {"lam": HYPER["lam"], "shapes": {k: list(s) for k, s in
                                                               SHAPES.items()}}
    factors, verdict = _factors(params, grads, ans.answers[1].get("grads"), settings["rtol"],
                                details)
    if verdict is not None:
        return verdict
    on_biases, verdict = _biases(factors, settings["rtol"], details)
    if verdict is not None:
        return verdict
    verdict = _penalty(params, ans.answers[2].get("penalty"), ans.answers[3].get("penalty"),
                       on_biases, settings["rtol"], details)
    if verdict is not None:
        return verdict
    if not on_biases:
        return passed("weight_decay.ok", details, lam=HYPER["lam"])
    details["variant"] = api_variants.WEIGHT_DECAY_ON_BIASES
    if settings["strict"]:
        return failed("weight_decay.strict_on_biases", details)
    return passed("weight_decay.ok_on_biases", details, lam=HYPER["lam"])


def _factors(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], got: Any,
             rtol: float, details: dict[str, Any]) -> tuple[dict[str, float], Verdict | None]:
    """c/λ per parameter, for what the decay added to its gradient; or the failure."""
    lam, factors = HYPER["lam"], {}
    got = got if isinstance(got, dict) else {}
    for name, p in params.items():
        arr = as_array(got.get(name))
        what = f"∂E/∂{name}"
        if arr is None:
            return factors, failed("api.not_an_array", details, what=what,
                                   got=type(got.get(name)).__name__)
        if arr.shape != p.shape:
            return factors, failed("api.wrong_shape", details, what=what, got=str(arr.shape),
                                   expected=str(p.shape))
        if not np.all(np.isfinite(arr)):
            return factors, failed("api.not_finite", details, what=what)
        term = arr - grads[name]
        scale = lam * float(np.linalg.norm(p))
        c, residual = fit(term, p, scale)
        if residual > rtol:
            key = "weight_decay.l1" if fit(term, np.sign(p), scale)[1] <= rtol else \
                "weight_decay.not_proportional"
            return factors, failed(key, details, name=name)
        factors[name] = c / lam
    details["factors"] = {k: round(f, 6) for k, f in factors.items()}
    for name in (k for k in params if is_weight(k)):
        f = factors[name]
        if _near(f, 1.0, rtol):
            continue
        if _near(f, 0.0, rtol):
            return factors, failed("weight_decay.not_applied", details, name=name, lam=lam)
        key = next((k for target, k in WRONG_FACTORS.items() if _near(f, target, rtol)),
                   "weight_decay.wrong_factor")
        return factors, failed(key, details, name=name, factor=_shown(f))
    return factors, None


def _biases(factors: dict[str, float], rtol: float, details: dict[str, Any]
            ) -> tuple[bool, Verdict | None]:
    """Whether the biases are decayed as the weights (the variant); or the failure."""
    biases = {k: f for k, f in factors.items() if not is_weight(k)}
    decayed = sorted(k for k, f in biases.items() if _near(f, 1.0, rtol))
    for name, f in biases.items():
        if not (_near(f, 0.0, rtol) or _near(f, 1.0, rtol)):
            return False, failed("weight_decay.bias_factor", details, name=name,
                                 factor=_shown(f))
    if decayed and len(decayed) < len(biases):
        return False, failed("weight_decay.bias_mixed", details, decayed=", ".join(decayed))
    return bool(decayed), None


def _penalty(params: dict[str, np.ndarray], first: Any, second: Any, on_biases: bool,
             rtol: float, details: dict[str, Any]) -> Verdict | None:
    """The penalty's coefficients on Σ‖W‖² and Σ‖b‖² (in units of the reference's λ/2)
    against those the gradient implies; None when they agree or there is no penalty."""
    if not all(isinstance(v, int | float) and np.isfinite(v) for v in (first, second)):
        details["penalty_checked"] = False
        return None
    details["penalty_checked"] = True
    l2 = L2(HYPER["lam"])
    weights = sum(l2.penalty(v) for k, v in params.items() if is_weight(k))
    biases = sum(l2.penalty(v) for k, v in params.items() if not is_weight(k))
    on_b = (second - first) / (3.0 * biases)  # doubling the biases multiplies Σ‖b‖² by 4
    on_w = (first - on_b * biases) / weights
    details["penalty_factors"] = {"W": round(on_w, 6), "b": round(on_b, 6)}
    if _near(on_w, 1.0, rtol) and _near(on_b, float(on_biases), rtol):
        return None
    return failed("weight_decay.penalty_mismatch", details, on_w=_shown(on_w),
                  on_b=_shown(on_b), grad_b="1" if on_biases else "0")
