"""Affine, Sigmoid, ReLU, Flatten and the softmax cross-entropy loss: forward against the
naive loops of naive_nn, backward against numerical gradients; weight initialisation."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import Affine, Flatten, ReLU, Sigmoid, SoftmaxCrossEntropy
from tests import naive_nn
from tests.gradcheck import (
    KINKED,
    SMOOTH,
    assert_gradients,
    away_from_zero,
    numerical_vjp,
    rel_error,
)

SHAPES = [(1, 1), (3, 5), (7, 2), (4, 13)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.mark.parametrize(("batch", "d_in", "d_out"), [(1, 1, 1), (3, 5, 4), (7, 13, 2)])
def test_affine_matches_naive_and_gradients(rng, batch, d_in, d_out):
    layer = Affine(d_in, d_out, rng)
    x = rng.standard_normal((batch, d_in))
    np.testing.assert_allclose(layer.forward(x), naive_nn.affine(x, **_wb(layer)), atol=1e-12)
    assert_gradients(layer, x, rng, SMOOTH)


def test_affine_flattens_image_batches_and_restores_the_input_shape(rng):
    layer = Affine(2 * 3 * 3, 4, rng)
    x = rng.standard_normal((5, 2, 3, 3))
    np.testing.assert_allclose(layer.forward(x), naive_nn.affine(x, **_wb(layer)), atol=1e-12)
    assert layer.backward(rng.standard_normal((5, 4))).shape == x.shape
    assert_gradients(layer, x, rng, SMOOTH)


def test_affine_without_input_grad_still_fills_parameter_grads(rng):
    x, dy = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))
    full, first = Affine(4, 2, np.random.default_rng(0)), Affine(4, 2, np.random.default_rng(0))
    first.input_grad = False
    full.forward(x, True)
    first.forward(x, True)
    assert full.backward(dy) is not None
    assert first.backward(dy) is None
    for name in ("W", "b"):
        np.testing.assert_array_equal(first.grads[name], full.grads[name])


@pytest.mark.parametrize("shape", [*SHAPES, (2, 3, 4, 5)])
def test_sigmoid_matches_naive_and_gradients(rng, shape):
    x = 3 * rng.standard_normal(shape)
    np.testing.assert_allclose(Sigmoid().forward(x), naive_nn.sigmoid(x), rtol=1e-13)
    assert_gradients(Sigmoid(), x, rng, SMOOTH)


def test_sigmoid_does_not_overflow_for_large_inputs():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_array_equal(y, [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize("shape", [*SHAPES, (2, 3, 4, 5)])
def test_relu_matches_naive_and_gradients(rng, shape):
    x = away_from_zero(rng, shape)
    np.testing.assert_array_equal(ReLU().forward(x), naive_nn.relu(x))
    assert_gradients(ReLU(), x, rng, KINKED)


def test_relu_derivative_is_zero_at_zero_and_one_above():
    """Eq. 25: a'(t) = 1 for t > 0 and 0 for t ≤ 0, including t = 0 itself."""
    layer = ReLU()
    layer.forward(np.array([[-1.0, 0.0, 1e-12, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.full((1, 4), 3.0)), [[0, 0, 3, 3]])


def test_flatten_round_trip(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    layer = Flatten()
    y = layer.forward(x)
    assert y.shape == (2, 60)
    assert y[1, 1 * 20 + 2 * 5 + 3] == x[1, 1, 2, 3]  # channel, then row, then column
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(dy), dy.reshape(x.shape))
    assert_gradients(Flatten(), x, rng, SMOOTH)


@pytest.mark.parametrize(("batch", "classes"), [(1, 2), (5, 10), (8, 3)])
def test_softmax_cross_entropy_matches_naive_and_gradient(rng, batch, classes):
    a = 2 * rng.standard_normal((batch, classes))
    labels = rng.integers(0, classes, batch)
    loss = SoftmaxCrossEntropy()
    assert loss.forward(a, labels) == pytest.approx(naive_nn.cross_entropy(a, labels), rel=1e-12)
    np.testing.assert_allclose(loss.probabilities.sum(axis=1), 1.0, rtol=1e-12)
    analytic = loss.backward()
    numerical = numerical_vjp(lambda: np.array(loss.forward(a, labels)), a, np.array(1.0))
    assert rel_error(analytic, numerical) < SMOOTH


def test_softmax_cross_entropy_is_finite_for_huge_logits():
    loss = SoftmaxCrossEntropy()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = loss.forward(np.array([[1000.0, -1000.0], [0.0, 800.0]]), np.array([0, 0]))
    assert value == pytest.approx(400.0)


@pytest.mark.parametrize(("init", "variance"), [
    ("course", lambda n_in, n_out: 1 / n_in),
    ("he", lambda n_in, n_out: 2 / n_in),
    ("xavier", lambda n_in, n_out: 2 / (n_in + n_out)),
])
def test_affine_initialisation_variance(init, variance):
    layer = Affine(400, 300, np.random.default_rng(0), init=init)
    w = layer.params["W"]
    assert w.mean() == pytest.approx(0.0, abs=0.01 * np.sqrt(variance(400, 300)))
    assert w.var() == pytest.approx(variance(400, 300), rel=0.02)
    if init == "course":  # §4.2.2: the bias too is drawn from N(0, 1/N)
        assert layer.params["b"].std() > 0
    else:
        np.testing.assert_array_equal(layer.params["b"], 0.0)


def test_unknown_initialisation_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown weight initialisation .glorot.*he"):
        Affine(3, 2, init="glorot")


def _wb(layer: Affine) -> dict[str, np.ndarray]:
    return {"w": layer.params["W"], "b": layer.params["b"]}
