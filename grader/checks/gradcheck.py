"""Numerical gradient checks of a student's layer, run through the worker.

The student's backward is compared with centred differences of the student's own
forward, in float64 and in vector–Jacobian form: with a random upstream gradient g,
f(x) = Σ g ∘ layer(x) and ∂f/∂x must equal backward(g). Coordinates are sampled
(all of them for small tensors) and the error of a tensor is
max|a − n| / max(1e-8, max(|a| + |n|)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.api_client import Answers

H = 1e-5
MAX_COORDS = 24
WORST_SHOWN = 5


@dataclass
class GradCase:
    """One layer, one input, one upstream gradient (``labels`` for a loss layer)."""

    kind: str
    params: dict[str, np.ndarray]
    config: dict[str, Any]
    x: np.ndarray
    upstream: np.ndarray | None = None
    labels: np.ndarray | None = None
    train: bool = True
    backward_at: int = 0
    # (tensor name, flat index, position of the + and of the − evaluation in the answers)
    probes: list[tuple[str, int, int, int]] = field(default_factory=list)

    @property
    def is_loss(self) -> bool:
        return self.labels is not None


def _evaluate(case: GradCase, x: np.ndarray) -> dict[str, Any]:
    if case.is_loss:
        return {"op": "loss", "x": x, "labels": case.labels}
    return {"op": "forward", "x": x, "train": case.train, "project": case.upstream}


def add_requests(case: GradCase, rng: np.random.Generator, reqs: list[dict[str, Any]]) -> None:
    """Append the case's script to ``reqs``: build, forward, backward, perturbed evaluations."""
    reqs.append({"op": "layer", "kind": case.kind, "params": case.params,
                 "config": case.config})
    reqs.append(_evaluate(case, case.x))
    case.backward_at = len(reqs)
    reqs.append({"op": "backward", "dout": None if case.is_loss else case.upstream})
    case.probes = []
    for i in _coords(case.x.size, rng):
        case.probes.append(("x", i, len(reqs), len(reqs) + 1))
        for sign in (1, -1):
            reqs.append(_evaluate(case, _bumped(case.x, i, sign * H)))
    for name, value in case.params.items():
        for j in _coords(value.size, rng):
            case.probes.append((name, j, len(reqs) + 1, len(reqs) + 3))
            for sign in (1, -1):
                reqs.append({"op": "set_params", "params": {name: _bumped(value, j, sign * H)}})
                reqs.append(_evaluate(case, case.x))
        reqs.append({"op": "set_params", "params": {name: value}})


def _coords(size: int, rng: np.random.Generator) -> list[int]:
    if size <= MAX_COORDS:
        return list(range(size))
    return sorted(rng.choice(size, MAX_COORDS, replace=False).tolist())


def _bumped(a: np.ndarray, flat_index: int, delta: float) -> np.ndarray:
    out = a.copy()
    out.flat[flat_index] += delta
    return out


def _scalar(answer: dict[str, Any]) -> float:
    return float(answer["loss"] if "loss" in answer else answer["dot"])


@dataclass
class TensorError:
    name: str
    error: float
    worst: list[dict[str, Any]]


def evaluate(case: GradCase, ans: Answers) -> tuple[dict[str, np.ndarray], list[TensorError]]:
    """The analytic gradients the student returned and each tensor's error against numbers.

    Raises ValueError with a student-facing reason when backward returned the wrong thing.
    """
    back = ans.answers[case.backward_at]
    analytic = {"x": back.get("dx")}
    analytic.update(back.get("grads") or {})
    for name, value in [("x", case.x), *case.params.items()]:
        got = analytic.get(name)
        if not isinstance(got, np.ndarray):
            raise ValueError(f"backward gave no gradient for {_label(name)}")
        if got.shape != value.shape:
            raise ValueError(f"the gradient for {_label(name)} has shape {got.shape}, "
                             f"expected {value.shape}")
    rows: dict[str, list[tuple[int, float, float]]] = {}
    for name, index, plus, minus in case.probes:
        numeric = (_scalar(ans.answers[plus]) - _scalar(ans.answers[minus])) / (2 * H)
        rows.setdefault(name, []).append((index, float(analytic[name].flat[index]), numeric))
    return analytic, [_tensor_error(name, r, case) for name, r in rows.items()]


def _tensor_error(name: str, rows: list[tuple[int, float, float]], case: GradCase
                  ) -> TensorError:
    a = np.array([r[1] for r in rows])
    n = np.array([r[2] for r in rows])
    error = float(np.max(np.abs(a - n)) / max(1e-8, float(np.max(np.abs(a) + np.abs(n)))))
    shape = case.x.shape if name == "x" else case.params[name].shape
    order = np.argsort(-np.abs(a - n))[:WORST_SHOWN]
    worst = [{"tensor": _label(name),
              "index": str(tuple(int(i) for i in np.unravel_index(rows[k][0], shape))),
              "analytic": rows[k][1], "numeric": rows[k][2],
              "abs_error": abs(rows[k][1] - rows[k][2])} for k in order]
    return TensorError(_label(name), error, worst)


def _label(name: str) -> str:
    return "input x" if name == "x" else name
