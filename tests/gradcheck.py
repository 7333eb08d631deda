"""Numerical gradient checks shared by the layer tests (float64, centred differences).

The check is in vector–Jacobian form: for a random upstream gradient dy, the analytic
``backward(dy)`` must equal the numerical gradient of the scalar ⟨f(x), dy⟩ with
respect to the input and to every parameter tensor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from reference.nn import Layer

H = 1e-5
SMOOTH = 1e-7  # threshold for layers that are smooth everywhere
KINKED = 1e-6  # threshold for ReLU and max pooling, with inputs kept away from the kinks


def rel_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """max|a − n| / max(1e-8, max(|a| + |n|)), over all elements.

    Normalising by the largest magnitude rather than element by element keeps entries that
    are zero up to rounding from dominating the error.
    """
    analytic, numerical = np.asarray(analytic), np.asarray(numerical)
    assert analytic.shape == numerical.shape, (analytic.shape, numerical.shape)
    scale = max(1e-8, float(np.max(np.abs(analytic) + np.abs(numerical), initial=0.0)))
    return float(np.max(np.abs(analytic - numerical), initial=0.0)) / scale


def numerical_vjp(
    f: Callable[[], np.ndarray], x: np.ndarray, dy: np.ndarray, h: float = H
) -> np.ndarray:
    """∂⟨f(), dy⟩/∂x by centred differences, perturbing ``x`` in place (restored after)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = np.vdot(f(), dy)
        x[i] = old - h
        minus = np.vdot(f(), dy)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def layer_errors(
    layer: Layer, x: np.ndarray, rng: np.random.Generator, train: bool = True
) -> dict[str, float]:
    """Relative errors of ``layer.backward`` for the input ``"x"`` and every parameter.

    Layer state (BatchNorm's running statistics) is restored after every evaluation, so
    the numerical gradient sees one fixed function and the layer ends as it began.
    """
    saved = {name: value.copy() for name, value in layer.state.items()}

    def f() -> np.ndarray:
        y = layer.forward(x, train)
        for name, value in saved.items():
            layer.state[name][...] = value
        return y

    dy = rng.standard_normal(f().shape)
    f()
    analytic = {"x": layer.backward(dy), **{k: g.copy() for k, g in layer.grads.items()}}
    assert set(analytic) == {"x", *layer.params}, "backward must fill a grad per parameter"
    targets = {"x": x, **layer.params}
    return {name: rel_error(analytic[name], numerical_vjp(f, targets[name], dy))
            for name in targets}


def assert_gradients(layer: Layer, x: np.ndarray, rng: np.random.Generator, tol: float,
                     train: bool = True) -> None:
    errors = layer_errors(layer, x, rng, train)
    bad = {k: v for k, v in errors.items() if not v < tol}
    assert not bad, f"{layer.kind}: relative errors above {tol:g}: {bad}"


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.05
                   ) -> np.ndarray:
    """Random values with |v| ≥ gap, so a step of H never crosses ReLU's kink at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(gap, 1.0, size=shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...], spacing: float = 1e-2
             ) -> np.ndarray:
    """Values all at least ``spacing`` apart, so no pooling window has a tie within ±H."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * spacing - 0.5
