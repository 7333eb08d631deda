"""Numerical gradient checks of a student's layer that its state cannot fool.

The student's backward is compared with centred differences of the student's own forward,
in float64 and in vector–Jacobian form: with a random upstream gradient g,
f(x) = Σ g ∘ layer(x) and ∂f/∂x must equal backward(g) (for a loss layer f is the loss).
Every evaluation runs on a NEW layer object built from the (perturbed) parameters (the
worker's ``fresh`` op), so nothing an earlier call stored — a cached input, a flag set by
backward — can change the numbers. Every coordinate is probed (the case matrix keeps
tensors below :data:`~grader.checks.api_cases.MAX_PROBES`; larger ones are sampled), and
the error of a tensor is max|a − n| / max(1e-8, max(|a| + |n|)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks.api_cases import MAX_PROBES, LayerCase

H = 1e-5
WORST_SHOWN = 5


@dataclass
class TensorError:
    name: str
    error: float
    worst: list[dict[str, Any]]


def probes(case: LayerCase, rng: np.random.Generator) -> list[tuple[str, int]]:
    """(tensor name, flat index) of every coordinate to perturb: ``"x"`` and each parameter."""
    out = []
    for name, value in [("x", case.x), *case.params.items()]:
        if value.size <= MAX_PROBES:
            indices = range(value.size)
        else:
            indices = sorted(rng.choice(value.size, MAX_PROBES, replace=False).tolist())
        out += [(name, int(i)) for i in indices]
    return out


def numeric_request(case: LayerCase, upstream: np.ndarray | None,
                    coords: list[tuple[str, int]]) -> dict[str, Any]:
    """One ``fresh`` request: f at +h and at −h of every coordinate, in that order."""
    bumps = [[name, i, sign * H] for name, i in coords for sign in (1, -1)]
    return case.fresh_request(case.x, bumps, project=upstream)


def numeric_gradient(values: list[Any], coords: list[tuple[str, int]]) -> list[float] | None:
    """(f(+h) − f(−h)) / 2h per coordinate; None when a value is not a finite number."""
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if v.shape != (2 * len(coords),) or not np.all(np.isfinite(v)):
        return None
    return ((v[0::2] - v[1::2]) / (2 * H)).tolist()


def tensor_errors(case: LayerCase, analytic: dict[str, np.ndarray],
                  coords: list[tuple[str, int]], numeric: list[float]) -> list[TensorError]:
    """The error of each probed tensor, with its worst coordinates for the report's table."""
    rows: dict[str, list[tuple[int, float, float]]] = {}
    for (name, index), n in zip(coords, numeric, strict=True):
        rows.setdefault(name, []).append((index, float(analytic[name].flat[index]), n))
    return [_tensor_error(name, r, case) for name, r in rows.items()]


def _tensor_error(name: str, rows: list[tuple[int, float, float]], case: LayerCase
                  ) -> TensorError:
    a = np.array([r[1] for r in rows])
    n = np.array([r[2] for r in rows])
    error = float(np.max(np.abs(a - n)) / max(1e-8, float(np.max(np.abs(a) + np.abs(n)))))
    shape = case.x.shape if name == "x" else case.params[name].shape
    order = np.argsort(-np.abs(a - n))[:WORST_SHOWN]
    worst = [{"tensor": label(name), "case": case.label,
              "index": str(tuple(int(i) for i in np.unravel_index(rows[k][0], shape))),
              "analytic": rows[k][1], "numeric": rows[k][2],
              "abs_error": abs(rows[k][1] - rows[k][2])} for k in order]
    return TensorError(label(name), error, worst)


def label(name: str) -> str:
    """How a tensor is named in messages: ∂E/∂x, ∂E/∂W …"""
    return f"∂E/∂{name}"
