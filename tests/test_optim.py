"""Optimizers of §5.4 (eq. 39–55): each against a hand computation of the course's update
equations on a fixed gradient sequence, with per-parameter state and the course's defaults."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from reference.nn import SGD, AdaDelta, AdaGrad, Adam, Momentum, Optimizer, RMSProp

W0 = [0.5, -1.5, 2.0, 0.0]
GRADS = [[0.1, -0.2, 0.0, 3.0], [0.3, 0.1, -0.5, -3.0], [-0.2, 0.0, 0.4, 1.0],
         [0.05, -0.3, 0.2, 0.5], [1.0, 1.0, -1.0, 0.0]]


def sgd(w, grads, lr):
    for g in grads:
        w = w - lr * g  # eq. 39
    return w


def momentum(w, grads, lr, alpha):
    delta = 0.0
    for g in grads:
        delta = alpha * delta - lr * g  # eq. 40
        w = w + delta  # eq. 41
    return w


def adagrad(w, grads, lr, h0):
    h = h0
    for g in grads:
        h = h + g * g  # eq. 42
        w = w - lr / math.sqrt(h) * g  # eq. 43
    return w


def rmsprop(w, grads, lr, rho, eps):
    h = 0.0
    for g in grads:
        h = rho * h + (1 - rho) * g * g  # eq. 44
        w = w - lr / (math.sqrt(h) + eps) * g  # eq. 45
    return w


def adadelta(w, grads, rho, eps):
    h = s = 0.0
    for g in grads:
        h = rho * h + (1 - rho) * g * g  # eq. 46
        delta = -math.sqrt(s + eps) / math.sqrt(h + eps) * g  # eq. 47
        s = rho * s + (1 - rho) * delta * delta  # eq. 48
        w = w + delta  # eq. 49
    return w


def adam(w, grads, alpha, beta1, beta2, eps):
    t = m = v = 0.0
    for g in grads:
        t = t + 1  # eq. 50
        m = beta1 * m + (1 - beta1) * g  # eq. 51
        v = beta2 * v + (1 - beta2) * g * g  # eq. 52
        m_hat = m / (1 - beta1**t)  # eq. 53
        v_hat = v / (1 - beta2**t)  # eq. 54
        w = w - alpha * m_hat / (math.sqrt(v_hat) + eps)  # eq. 55
    return w


# (optimizer class, hand computation, hyper-parameters that differ from the defaults)
CASES = [
    (SGD, sgd, {"lr": 0.1}),
    (Momentum, momentum, {"lr": 0.05, "alpha": 0.8}),
    (AdaGrad, adagrad, {"lr": 0.1, "h0": 1e-3}),
    (RMSProp, rmsprop, {"lr": 0.01, "rho": 0.8, "eps": 1e-4}),
    (AdaDelta, adadelta, {"rho": 0.9, "eps": 1e-3}),
    (Adam, adam, {"alpha": 0.01, "beta1": 0.8, "beta2": 0.9, "eps": 1e-4}),
]
IDS = [c[0].kind for c in CASES]


def run(optimizer: Optimizer, grads: list[list[float]], w0: list[float] = W0) -> np.ndarray:
    w = np.array(w0)
    for g in grads:
        optimizer.update({"0.W": w}, {"0.W": np.array(g)})
    return w


def by_hand(rule, grads: list[list[float]], hyper: dict) -> list[float]:
    return [rule(w, [g[i] for g in grads], **hyper) for i, w in enumerate(W0)]


@pytest.mark.parametrize(("cls", "rule", "hyper"), CASES, ids=IDS)
def test_update_sequence_matches_the_equations(cls, rule, hyper):
    np.testing.assert_allclose(run(cls(**hyper), GRADS), by_hand(rule, GRADS, hyper),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize(("cls", "rule", "hyper"), CASES, ids=IDS)
def test_defaults_match_the_equations_too(cls, rule, hyper):
    np.testing.assert_allclose(run(cls(), GRADS), by_hand(rule, GRADS, _defaults(cls)),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize(("cls", "defaults"), [
    (Momentum, {"lr": 0.01, "alpha": 0.9}),
    (AdaGrad, {"lr": 0.001, "h0": 1e-8}),
    (RMSProp, {"lr": 0.001, "rho": 0.9, "eps": 1e-8}),
    (AdaDelta, {"rho": 0.95, "eps": 1e-6}),
    (Adam, {"alpha": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
])
def test_defaults_are_the_courses_suggestions(cls, defaults):
    """§5.4's suggested values; AdaDelta has no learning rate at all."""
    assert _defaults(cls) == defaults


@pytest.mark.parametrize(("cls", "rule", "hyper"), CASES, ids=IDS)
def test_state_is_kept_per_parameter_name(cls, rule, hyper):
    """Two parameters updated by one optimizer end as if each had its own optimizer."""
    shared = cls(**hyper)
    a, b = np.array(W0), np.array(W0[::-1])
    for g in GRADS:
        shared.update({"0.W": a, "2.W": b}, {"0.W": np.array(g), "2.W": 2 * np.array(g)})
    np.testing.assert_allclose(a, run(cls(**hyper), GRADS), rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, run(cls(**hyper), [list(2 * np.array(g)) for g in GRADS],
                                      W0[::-1]), rtol=0, atol=1e-15)


@pytest.mark.parametrize(("cls", "rule", "hyper"), CASES, ids=IDS)
def test_updates_in_place_and_keeps_float32(cls, rule, hyper):
    w = np.array(W0, dtype=np.float32)
    alias = w
    optimizer = cls(**hyper)
    for g in GRADS[:2]:
        optimizer.update({"p": w}, {"p": np.array(g, dtype=np.float32)})
    assert alias is w and w.dtype == np.float32
    np.testing.assert_allclose(w, by_hand(rule, GRADS[:2], {**_defaults(cls), **hyper}),
                               rtol=1e-5, atol=1e-6)


def test_create_by_name_and_unknown_names():
    assert isinstance(Optimizer.create("adam", alpha=0.01), Adam)
    assert Optimizer.create("momentum").alpha == 0.9
    assert set(Optimizer.registry) == {"sgd", "momentum", "adagrad", "rmsprop", "adadelta",
                                       "adam"}
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamw' \(known: adadelta"):
        Optimizer.create("adamw")


def _defaults(cls: type) -> dict:
    return {k: p.default for k, p in inspect.signature(cls).parameters.items()}
