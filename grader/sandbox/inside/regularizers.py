"""A student's weight decay behind one interface, INSIDE the sandbox.

The grader hands the parameters and the data gradients of a small network (``W1``,
``b1``, ``W2``, ``b2``) and λ; :class:`Decay` answers the gradients with the decay added
and, when the student's code has one, the penalty R. Three shapes are recognised (names
in :mod:`.names`):

- a class (``WeightDecay(lam)``, ``L2Regularizer(lam)`` …) with a method on the dicts,
  ``apply(params, grads)`` (adding to ``grads`` in place, or returning the new gradients),
  or on one tensor, ``gradient(W) → λW`` (with ``penalty(W)``, as the reference's
  ``reference.nn.regularizers.L2``), optionally a penalty method;
- functions: ``weight_decay(params, grads, lam)``, ``l2_grad(W, lam)`` /
  ``l2_grad(W, dW, lam)``, with ``l2_penalty(params, lam)`` beside them;
- an SGD whose constructor takes a weight-decay argument, ``SGD(lr, weight_decay)`` as
  torch.optim.SGD: the gradient it used is read off one update, (W − W′)/η.

A form that works on one tensor is applied to the weights only (names starting with
``W``), as the course's network would call it; a form on the dicts decides itself what it
decays, which is what the check looks at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import signatures
from .names import (
    DECAY_METHODS,
    LAMBDA,
    OPTIMIZER_ARGUMENTS,
    OPTIMIZER_DECAY,
    PENALTY_METHODS,
    ROLES,
    norm,
)
from .wrappers import ClassOptimizer, NotAttempted, method

NAMES = {**ROLES, "lam": LAMBDA, "weight_decay": OPTIMIZER_DECAY}

Gradients = Callable[[dict, dict], dict]
Penalty = Callable[[dict], Any]


def is_weight(key: str) -> bool:
    """``W1``, ``W2``, ``weight``: what a per-tensor weight decay is applied to."""
    return norm(key).startswith("w")


def _copies(arrays: dict) -> dict:
    return {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}


@dataclass
class Decay:
    """The decayed gradients of ``params`` (copies go to the student) and the penalty."""

    gradients_fn: Gradients
    penalty_fn: Penalty | None = None

    def gradients(self, params: dict, grads: dict) -> dict:
        return self.gradients_fn(_copies(params), _copies(grads))

    def penalty(self, params: dict) -> float | None:
        return None if self.penalty_fn is None else float(self.penalty_fn(_copies(params)))


# --- the two shapes of a gradient and of a penalty ------------------------------------------


def on_dicts(fn: Callable, mapping: dict[str, str], extra: dict) -> Gradients:
    """``fn(params, grads, …)``: the gradients it returns, or ``grads`` as it left them."""
    def run(params: dict, grads: dict) -> dict:
        out = signatures.call(fn, mapping, {**extra, "params": params, "grads": grads})
        return out if isinstance(out, dict) else grads
    return run


def per_tensor(fn: Callable, mapping: dict[str, str], extra: dict) -> Gradients:
    """``fn(W) → λW`` (added to ∂E/∂W) or ``fn(W, dW) → dW + λW``, on the weights only."""
    adds = "grad" not in mapping.values()

    def run(params: dict, grads: dict) -> dict:
        out = dict(grads)
        for key in params:
            if is_weight(key):
                got = signatures.call(fn, mapping, {**extra, "param": params[key],
                                                    "grad": grads[key]})
                out[key] = grads[key] + got if adds else got
        return out
    return run


def penalty_on_dicts(fn: Callable, mapping: dict[str, str], extra: dict) -> Penalty:
    return lambda params: signatures.call(fn, mapping, {**extra, "params": params})


def penalty_per_tensor(fn: Callable, mapping: dict[str, str], extra: dict) -> Penalty:
    return lambda params: sum(float(signatures.call(fn, mapping, {**extra, "param": v}))
                              for k, v in params.items() if is_weight(k))


def _assign(fn: Callable, roles: tuple[str, ...], required: tuple[str, ...], exact: bool
            ) -> dict[str, str] | None:
    """The roles of ``fn``'s parameters; ``exact``: only when every name says its role
    (a lone unknown name is otherwise given the role left, which may be the wrong shape)."""
    mapping = signatures.assign(fn, roles, required, NAMES)
    if mapping is None or (exact and any(norm(p) not in NAMES[r] for p, r in mapping.items())):
        return None
    return mapping


def gradient_callable(fn: Callable, extra: dict, lam_role: bool, exact: bool
                      ) -> Gradients | None:
    """``fn`` as the decay's gradient: on the dicts, else per tensor; None: neither."""
    lam = ("lam",) if lam_role else ()
    mapping = _assign(fn, ("params", "grads", *lam, "lr"), ("params", "grads", *lam), exact)
    if mapping is not None:
        return on_dicts(fn, mapping, extra)
    mapping = _assign(fn, ("param", "grad", *lam), ("param", *lam), exact)
    return None if mapping is None else per_tensor(fn, mapping, extra)


def penalty_callable(fn: Callable, extra: dict, lam_role: bool, exact: bool) -> Penalty | None:
    """``fn`` as the penalty: on the dicts, else per tensor (summed over the weights)."""
    lam = ("lam",) if lam_role else ()
    mapping = _assign(fn, ("params", *lam), ("params", *lam), exact)
    if mapping is not None:
        return penalty_on_dicts(fn, mapping, extra)
    mapping = _assign(fn, ("param", *lam), ("param", *lam), exact)
    return None if mapping is None else penalty_per_tensor(fn, mapping, extra)


def first_callable(fns: list[Callable], make: Callable[..., Any], *args: Any) -> Any:
    """What ``make`` builds from the first of ``fns`` whose parameter names all say their
    role, else from the first it accepts at all; None when it accepts none."""
    for exact in (True, False):
        for fn in fns:
            built = make(fn, *args, exact)
            if built is not None:
                return built
    return None


# --- the three places weight decay is found ---------------------------------------------------


def from_object(obj: Any, hyper: dict) -> Decay:
    """A student's (or an adapter's) decay object: its gradient and penalty methods."""
    extra = {"lam": hyper["lam"], "lr": hyper["lr"]}
    gradients = first_callable(_methods(obj, DECAY_METHODS), gradient_callable, extra, False)
    if gradients is None:
        raise NotAttempted({"why": "no_update", "name": type(obj).__name__})
    penalty = first_callable(_methods(obj, PENALTY_METHODS), penalty_callable, extra, False)
    return Decay(gradients, penalty)


def _methods(obj: Any, names: tuple[str, ...]) -> list[Callable]:
    return [fn for name in names if (fn := method(obj, (name,))) is not None]


def build_class(klass: type, hyper: dict) -> Decay:
    """``klass(λ)`` (λ under the student's name) as a :class:`Decay`."""
    mapping = signatures.assign(klass, ("lam", "lr"), ("lam",), NAMES)
    if mapping is None:
        raise NotAttempted({"why": "unrecognised", "name": klass.__name__,
                            "params": signatures.describe(klass)})
    return from_object(signatures.call(klass, mapping, hyper), hyper)


def build_sgd(klass: type, hyper: dict) -> Decay | None:
    """An SGD taking a weight-decay argument, read off one update; None without one."""
    roles = {**OPTIMIZER_ARGUMENTS["sgd"], "weight_decay": OPTIMIZER_DECAY}
    mapping = signatures.assign(klass, tuple(roles), ("lr", "weight_decay"), roles)
    if mapping is None:
        return None
    optimizer = ClassOptimizer(signatures.call(klass, mapping, {
        "lr": hyper["lr"], "weight_decay": hyper["lam"]}))

    def gradients(params: dict, grads: dict) -> dict:
        before = _copies(params)
        optimizer.update(params, grads)
        return {k: (before[k] - np.asarray(params[k])) / hyper["lr"] for k in before}
    return Decay(gradients)
