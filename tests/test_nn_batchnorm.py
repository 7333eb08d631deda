"""Batch Normalization (eq. 28–38) after an affine layer (B, D) and per channel after a conv
(B, C, H, W): forward against naive loops, gradients, running statistics, test-time form."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import BatchNorm
from tests import naive_nn
from tests.gradcheck import SMOOTH, assert_gradients

SHAPES = [(4, 3), (7, 5), (16, 1), (4, 3, 2, 5), (5, 2, 3, 3)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def random_bn(rng: np.random.Generator, features: int, **kwargs) -> BatchNorm:
    """A BatchNorm whose γ, β and running statistics are not at their initial values."""
    layer = BatchNorm(features, **kwargs)
    layer.params["gamma"] = rng.uniform(0.5, 2.0, features)
    layer.params["beta"] = rng.standard_normal(features)
    layer.state["running_mean"] = rng.standard_normal(features)
    layer.state["running_var"] = rng.uniform(0.5, 2.0, features)
    return layer


@pytest.mark.parametrize("shape", SHAPES)
def test_training_forward_matches_naive(rng, shape):
    layer = random_bn(rng, shape[1])
    x = 3 * rng.standard_normal(shape) + 1
    expected, _, _ = naive_nn.batchnorm_train(x, layer.params["gamma"], layer.params["beta"],
                                              layer.eps)
    np.testing.assert_allclose(layer.forward(x, train=True), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_test_forward_is_eq_38_with_the_running_estimates(rng, shape):
    layer = random_bn(rng, shape[1])
    x = rng.standard_normal(shape)
    expected = naive_nn.batchnorm_test(x, layer.params["gamma"], layer.params["beta"],
                                       layer.state["running_mean"], layer.state["running_var"],
                                       layer.eps)
    np.testing.assert_allclose(layer.forward(x, train=False), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (4, 2, 3, 3)])
def test_running_estimates_are_moving_averages_of_the_batch_statistics(rng, shape):
    layer = BatchNorm(shape[1], decay=0.8)
    mean, var = np.zeros(shape[1]), np.ones(shape[1])
    for _ in range(3):
        x = 2 * rng.standard_normal(shape) + 5
        _, mu_b, var_b = naive_nn.batchnorm_train(x, np.ones(shape[1]), np.zeros(shape[1]), 0)
        mean, var = 0.8 * mean + 0.2 * np.array(mu_b), 0.8 * var + 0.2 * np.array(var_b)
        layer.forward(x, train=True)
    np.testing.assert_allclose(layer.state["running_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(layer.state["running_var"], var, rtol=1e-12)


def test_test_mode_leaves_the_running_estimates_alone(rng):
    layer = random_bn(rng, 3)
    before = {k: v.copy() for k, v in layer.state.items()}
    layer.forward(rng.standard_normal((5, 3)), train=False)
    for name, value in before.items():
        np.testing.assert_array_equal(layer.state[name], value)


def test_estimates_converge_to_the_population_statistics():
    """With many minibatches from one distribution, eq. 38 normalises like training does."""
    rng = np.random.default_rng(0)
    layer = BatchNorm(2, decay=0.9)
    for _ in range(300):
        layer.forward(rng.normal([3.0, -1.0], [2.0, 0.5], size=(200, 2)), train=True)
    np.testing.assert_allclose(layer.state["running_mean"], [3.0, -1.0], atol=0.05)
    np.testing.assert_allclose(layer.state["running_var"], [4.0, 0.25], rtol=0.05)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_for_input_gamma_and_beta(rng, shape):
    layer = random_bn(rng, shape[1])
    assert_gradients(layer, 2 * rng.standard_normal(shape) + 1, rng, SMOOTH)


def test_gradients_leave_the_running_estimates_as_they_were(rng):
    layer = random_bn(rng, 3)
    before = {k: v.copy() for k, v in layer.state.items()}
    assert_gradients(layer, rng.standard_normal((4, 3)), rng, SMOOTH)
    for name, value in before.items():
        np.testing.assert_array_equal(layer.state[name], value)


def test_backward_needs_a_training_forward(rng):
    layer = BatchNorm(3)
    layer.forward(rng.standard_normal((4, 3)), train=False)
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(np.ones((4, 3)))


def test_gamma_starts_at_one_and_beta_at_zero():
    layer = BatchNorm(4)
    np.testing.assert_array_equal(layer.params["gamma"], 1.0)
    np.testing.assert_array_equal(layer.params["beta"], 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_astype_casts_parameters_and_running_statistics(rng, dtype):
    layer = random_bn(rng, 3)
    layer.astype(dtype)
    for value in (*layer.params.values(), *layer.state.values()):
        assert value.dtype == dtype
    x = rng.standard_normal((4, 3, 2, 2)).astype(dtype)
    for train in (False, True):
        assert layer.forward(x, train).dtype == dtype
    assert layer.backward(x).dtype == dtype
    assert all(g.dtype == dtype for g in layer.grads.values())
    assert all(v.dtype == dtype for v in layer.state.values()), "the update must not upcast"
