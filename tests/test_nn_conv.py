"""Convolution via im2col (eq. 56–62): forward against the 7-loop definition, gradients,
im2col/col2im as adjoint operators, stride, padding, channels and filters."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import Conv2d
from reference.nn.im2col import col2im, im2col, window_view
from tests import naive_nn
from tests.gradcheck import SMOOTH, assert_gradients

# (batch, channels, height, width, filters, kernel, stride, padding)
CASES = [
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 6, 4, 3, 2, 1),
    (3, 2, 8, 9, 3, 5, 1, 2),
    (2, 3, 6, 7, 2, (2, 3), 2, 0),
    (2, 2, 9, 9, 5, 3, 2, 2),
    (2, 4, 5, 4, 3, 1, 1, 0),
    (1, 2, 4, 4, 2, 4, 1, 1),
]


def make(rng: np.random.Generator, case: tuple) -> tuple[Conv2d, np.ndarray]:
    batch, c, h, w, k, kernel, stride, padding = case
    layer = Conv2d(c, k, kernel, stride, padding, rng)
    layer.params["b"] = rng.standard_normal(k)
    return layer, rng.standard_normal((batch, c, h, w))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(5)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_matches_the_seven_loop_definition(rng, case):
    layer, x = make(rng, case)
    expected = naive_nn.conv2d(x, layer.params["W"], layer.params["b"], layer.stride,
                               layer.padding)
    y = layer.forward(x)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradients_for_input_filters_and_bias(rng, case):
    layer, x = make(rng, case)
    assert_gradients(layer, x, rng, SMOOTH)


def test_same_padding_keeps_the_image_size_and_stride_2_halves_it(rng):
    """§5.6.2–5.6.3: padding ⌊R/2⌋ keeps d_x × d_y; stride 2 gives d_x/2 × d_y/2."""
    x = rng.standard_normal((2, 3, 28, 28))
    assert Conv2d(3, 6, 3, padding=1).forward(x).shape == (2, 6, 28, 28)
    assert Conv2d(3, 6, 3, stride=2, padding=1).forward(x).shape == (2, 6, 14, 14)
    assert Conv2d(3, 6, 5, padding=2).forward(x).shape == (2, 6, 28, 28)


def test_parameter_count_is_k_times_r_r_ch_plus_one():
    """§5.6.3: K filters of R×R over ch channels have K·(R·R·ch + 1) parameters."""
    layer = Conv2d(3, 8, 3)
    assert sum(p.size for p in layer.params.values()) == 8 * (3 * 3 * 3 + 1)


def test_im2col_columns_are_the_receptive_fields(rng):
    """Column (b, i, j) of X holds the padded pixels under filter position (i, j) (Fig. 5)."""
    x = rng.standard_normal((2, 3, 5, 6))
    col = im2col(x, 3, 2, 2, 1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ho, wo = 3, 4
    assert col.shape == (3 * 3 * 2, 2 * ho * wo)
    for b, i, j in np.ndindex(2, ho, wo):
        field = padded[b, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 2]
        np.testing.assert_array_equal(col[:, (b * ho + i) * wo + j], field.ravel())


@pytest.mark.parametrize(("size", "kernel", "stride"), [((7, 7), 3, 1), ((8, 9), 3, 2),
                                                        ((6, 7), 2, 3), ((5, 5), 5, 1)])
def test_col2im_is_the_adjoint_of_the_window_view(rng, size, kernel, stride):
    """⟨windows(x), c⟩ = ⟨x, col2im(c)⟩ for all x, c: col2im sums every window's share."""
    x = rng.standard_normal((2, 3, *size))
    windows = window_view(x, kernel, kernel, stride)  # (B, C, Ho, Wo, kh, kw)
    cols = rng.standard_normal(windows.shape)
    folded = col2im(np.moveaxis(cols, (4, 5), (0, 1)), size, stride)
    assert folded.shape == x.shape
    assert np.vdot(windows, cols) == pytest.approx(np.vdot(x, folded), rel=1e-12)


def test_first_layer_skips_the_input_gradient(rng):
    layer, x = make(rng, CASES[1])
    reference, _ = make(np.random.default_rng(5), CASES[1])
    layer.input_grad = False
    dy = rng.standard_normal(layer.forward(x).shape)
    reference.params = {k: v.copy() for k, v in layer.params.items()}
    reference.forward(x)
    assert layer.backward(dy) is None
    reference.backward(dy)
    for name in ("W", "b"):
        np.testing.assert_array_equal(layer.grads[name], reference.grads[name])


def test_float32_stays_float32(rng):
    layer, x = make(rng, CASES[1])
    layer.astype(np.float32)
    y = layer.forward(x.astype(np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize(("init", "variance"), [("course", 1 / 27), ("he", 2 / 27),
                                                ("xavier", 2 / (27 + 8 * 9))])
def test_initialisation_uses_the_receptive_field_as_fan_in(init, variance):
    w = np.concatenate([Conv2d(3, 8, 3, rng=np.random.default_rng(s), init=init)
                        .params["W"].ravel() for s in range(60)])
    assert w.var() == pytest.approx(variance, rel=0.05)
