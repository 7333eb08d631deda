"""Max pooling (eq. 63–64): the reshape fast path (windows tile the input) and the general
strided path, against loops; gradients away from ties; eq. 64 at ties."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import MaxPool2d
from reference.nn.pool import pool_windows
from tests import naive_nn
from tests.gradcheck import KINKED, assert_gradients, distinct

# (batch, channels, height, width, size, stride)
TILING = [(2, 3, 8, 8, 2, 2), (2, 2, 7, 9, 2, 2), (1, 3, 9, 6, 3, 3), (3, 1, 5, 5, 1, 1)]
GENERAL = [(2, 2, 9, 9, 3, 2), (1, 3, 8, 7, 2, 3), (2, 2, 7, 7, 3, 1), (2, 1, 6, 5, 2, 1)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(9)


@pytest.mark.parametrize("case", TILING + GENERAL, ids=str)
def test_forward_matches_the_loops(rng, case):
    *shape, size, stride = case
    x = rng.standard_normal(shape)
    y = MaxPool2d(size, stride).forward(x)
    np.testing.assert_array_equal(y, naive_nn.maxpool2d(x, size, stride))


@pytest.mark.parametrize("case", TILING + GENERAL, ids=str)
def test_gradients_away_from_ties(rng, case):
    *shape, size, stride = case
    assert_gradients(MaxPool2d(size, stride), distinct(rng, tuple(shape)), rng, KINKED)


@pytest.mark.parametrize("case", TILING, ids=str)
def test_tiling_windows_are_a_reshape_of_the_input(rng, case):
    *shape, size, stride = case
    x = rng.standard_normal(shape)
    windows = pool_windows(x, size, stride)
    assert np.shares_memory(windows, x)
    ho, wo = shape[2] // size, shape[3] // size
    tiles = x[:, :, : ho * size, : wo * size].reshape(*shape[:2], ho, size, wo, size)
    np.testing.assert_array_equal(windows, tiles.transpose(3, 5, 0, 1, 2, 4))


def test_gradient_goes_to_the_maximum_only(rng):
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]])
    layer = MaxPool2d(2)
    np.testing.assert_array_equal(layer.forward(x), [[[[5.0, 9.0]]]])
    dx = layer.backward(np.array([[[[10.0, 20.0]]]]))
    np.testing.assert_array_equal(dx, [[[[0, 10, 0, 0], [0, 0, 20, 0]]]])


def test_overlapping_windows_add_up_their_gradients(rng):
    """A pixel that is the maximum of two windows receives both windows' gradients."""
    x = distinct(rng, (1, 1, 3, 5)) - 1.0
    x[0, 0, 1, 2] = 1.0  # in both 3×3 windows, which are 2 apart
    layer = MaxPool2d(3, 2)
    np.testing.assert_array_equal(layer.forward(x), [[[[1.0, 1.0]]]])
    dx = layer.backward(np.array([[[[2.0, 3.0]]]]))
    assert dx[0, 0, 1, 2] == 5.0
    assert dx.sum() == 5.0


def test_ties_all_receive_the_gradient_as_eq_64_states():
    layer = MaxPool2d(2)
    layer.forward(np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(layer.backward(np.full((1, 1, 1, 1), 3.0)), 3.0)


def test_pixels_outside_every_window_get_zero_gradient(rng):
    x = distinct(rng, (1, 2, 5, 5))
    layer = MaxPool2d(2)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(dx[:, :, 4, :], 0.0)
    np.testing.assert_array_equal(dx[:, :, :, 4], 0.0)
    assert dx.sum() == y.size


def test_accepts_transposed_memory_layouts(rng):
    """A conv output is a transposed view; pooling must not depend on memory order."""
    base = distinct(rng, (3, 2, 6, 6))
    x = base.transpose(1, 0, 2, 3)
    layer = MaxPool2d(2)
    np.testing.assert_array_equal(layer.forward(x), naive_nn.maxpool2d(x, 2, 2))
    assert_gradients(MaxPool2d(2), x.copy(), rng, KINKED)
    dy = rng.standard_normal((2, 3, 3, 3))
    layer.forward(x)
    contiguous = MaxPool2d(2)
    contiguous.forward(np.ascontiguousarray(x))
    np.testing.assert_array_equal(layer.backward(dy), contiguous.backward(dy))
