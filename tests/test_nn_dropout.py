"""Dropout as the course defines it (eq. 26–27): ρ·D nodes dropped per sample in training,
output scaled by (1 − ρ) at test time; the mask can be held fixed for gradient checks."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import Dropout
from reference.nn.dropout import dropout_mask
from tests import naive_nn
from tests.gradcheck import SMOOTH, assert_gradients


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.mark.parametrize(("shape", "rate"), [((50, 100), 0.5), ((20, 3, 5, 7), 0.3),
                                             ((8, 10), 0.0), ((4, 9), 0.9)])
def test_every_sample_drops_exactly_rho_times_its_nodes(shape, rate):
    keep = dropout_mask(np.random.default_rng(0), shape, rate)
    nodes = int(np.prod(shape[1:]))
    dropped = nodes - keep.reshape(shape[0], -1).sum(axis=1)
    np.testing.assert_array_equal(dropped, round(rate * nodes))


def test_every_node_is_dropped_with_probability_rho():
    rate, samples, nodes = 0.3, 4000, 20
    keep = dropout_mask(np.random.default_rng(1), (samples, nodes), rate)
    share = 1.0 - keep.mean(axis=0)
    sigma = np.sqrt(rate * (1 - rate) / samples)
    assert np.all(np.abs(share - rate) < 5 * sigma), share


def test_training_output_is_the_input_where_kept_and_zero_elsewhere(rng):
    layer = Dropout(0.4, rng)
    x = rng.standard_normal((6, 10))
    y = layer.forward(x, train=True)
    np.testing.assert_array_equal(y, naive_nn.dropout_train(x, layer.mask))
    assert (y == 0).sum() == 6 * 4


def test_test_output_is_one_minus_rho_times_the_input(rng):
    layer = Dropout(0.25, rng)
    x = rng.standard_normal((5, 3, 4, 4))
    np.testing.assert_allclose(layer.forward(x, train=False), 0.75 * x, rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), 0.75, rtol=1e-15)


def test_test_output_is_the_mean_training_output(rng):
    layer = Dropout(0.5, rng)
    x = rng.standard_normal((1, 8))
    mean = np.mean([layer.forward(x, train=True) for _ in range(4000)], axis=0)
    np.testing.assert_allclose(mean, layer.forward(x, train=False), atol=0.05 * np.abs(x).max())


def test_masks_are_redrawn_each_training_pass_unless_fixed(rng):
    layer = Dropout(0.5, rng)
    x = np.ones((4, 30))
    first = layer.forward(x, train=True)
    assert not np.array_equal(layer.forward(x, train=True), first)
    layer.fixed_mask = True
    held = layer.forward(x, train=True)
    np.testing.assert_array_equal(layer.forward(x, train=True), held)
    assert not np.array_equal(layer.forward(np.ones((5, 30)), train=True)[:4], held), \
        "a mask of another shape cannot be reused"


def test_backward_passes_the_gradient_through_kept_nodes_only(rng):
    """Eq. 27: the derivative is 1 where the node was kept and 0 where it was dropped."""
    layer = Dropout(0.5, rng)
    layer.forward(rng.standard_normal((3, 8)), train=True)
    dy = rng.standard_normal((3, 8))
    np.testing.assert_array_equal(layer.backward(dy), np.where(layer.mask, dy, 0.0))


@pytest.mark.parametrize("shape", [(4, 7), (3, 2, 3, 3)])
def test_gradients_with_the_mask_held_fixed(rng, shape):
    layer = Dropout(0.3, rng)
    x = rng.standard_normal(shape)
    layer.forward(x, train=True)
    layer.fixed_mask = True
    assert_gradients(layer, x, rng, SMOOTH)


def test_same_seed_same_masks():
    x = np.ones((3, 10))
    a, b = Dropout(0.5, np.random.default_rng(3)), Dropout(0.5, np.random.default_rng(3))
    for _ in range(3):
        np.testing.assert_array_equal(a.forward(x, True), b.forward(x, True))


def test_float32_stays_float32(rng):
    x = rng.standard_normal((2, 6)).astype(np.float32)
    layer = Dropout(0.5, rng)
    for train in (True, False):
        assert layer.forward(x, train).dtype == np.float32
        assert layer.backward(x).dtype == np.float32


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_rate_outside_0_1_is_refused(rate):
    with pytest.raises(ValueError, match="dropout rate"):
        Dropout(rate)
