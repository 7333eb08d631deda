"""The reference layers and optimizers against PyTorch in float64, conventions mapped:
same outputs, same gradients for random upstream gradients, same optimizer trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import (
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    Affine,
    BatchNorm,
    Dropout,
    MaxPool2d,
    Momentum,
    ReLU,
    RMSProp,
    Sigmoid,
    SoftmaxCrossEntropy,
)
from reference.nn.builders import build
from tests.gradcheck import distinct
from tests.test_nn_conv import CASES as CONV_CASES
from tests.test_nn_conv import make as make_conv
from tests.test_nn_pool import GENERAL, TILING

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

TOL = {"rtol": 1e-10, "atol": 1e-12}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(21)


def t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def compare(layer, x: np.ndarray, torch_fn, rng: np.random.Generator, train: bool = True,
            params: dict[str, str] | None = None) -> None:
    """Forward and backward of ``layer`` against ``torch_fn(x, **torch params)``.

    ``params`` maps the torch argument names to the layer's parameter names.
    """
    params = params or {}
    tx, tp = t(x), {arg: t(layer.params[name]) for arg, name in params.items()}
    ty = torch_fn(tx, **tp)
    y = layer.forward(x, train)
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), **TOL)
    for arg, name in params.items():
        np.testing.assert_allclose(layer.grads[name], tp[arg].grad.numpy(), **TOL)


def test_affine(rng):
    compare(Affine(6, 4, rng), rng.standard_normal((5, 6)), F.linear, rng,
            params={"weight": "W", "bias": "b"})


@pytest.mark.parametrize(("layer", "fn"), [(Sigmoid, torch.sigmoid), (ReLU, torch.relu)])
def test_activations(rng, layer, fn):
    compare(layer(), rng.standard_normal((4, 3, 5)) + 0.01, fn, rng)


def test_softmax_cross_entropy(rng):
    a, labels = rng.standard_normal((6, 10)), rng.integers(0, 10, 6)
    loss = SoftmaxCrossEntropy()
    ta = t(a)
    tl = F.cross_entropy(ta, torch.tensor(labels))
    assert loss.forward(a, labels) == pytest.approx(tl.item(), rel=1e-12)
    tl.backward()
    np.testing.assert_allclose(loss.backward(), ta.grad.numpy(), **TOL)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d(rng, case):
    layer, x = make_conv(rng, case)

    def conv(x, weight, bias):
        return F.conv2d(x, weight, bias, stride=layer.stride, padding=layer.padding)

    compare(layer, x, conv, rng, params={"weight": "W", "bias": "b"})


@pytest.mark.parametrize("case", TILING + GENERAL, ids=str)
def test_maxpool2d(rng, case):
    *shape, size, stride = case
    compare(MaxPool2d(size, stride), distinct(rng, tuple(shape)),
            lambda x: F.max_pool2d(x, size, stride), rng)


@pytest.mark.parametrize("shape", [(4, 3), (8, 5), (4, 3, 2, 5)])
def test_batchnorm_training(rng, shape):
    """Same output and gradients; running mean alike. PyTorch's running variance uses the
    unbiased batch variance (×m/(m−1)); the course's E[σ_B²] uses σ_B² itself."""
    layer = BatchNorm(shape[1], eps=1e-3, decay=0.7)
    layer.params["gamma"] = rng.uniform(0.5, 2, shape[1])
    layer.params["beta"] = rng.standard_normal(shape[1])
    mean0, var0 = rng.standard_normal(shape[1]), rng.uniform(0.5, 2, shape[1])
    layer.state = {"running_mean": mean0.copy(), "running_var": var0.copy()}
    t_mean, t_var = torch.tensor(mean0), torch.tensor(var0)

    def batch_norm(x, weight, bias):
        return F.batch_norm(x, t_mean, t_var, weight, bias, training=True, momentum=0.3,
                            eps=1e-3)

    x = 2 * rng.standard_normal(shape) + 1
    compare(layer, x, batch_norm, rng, params={"weight": "gamma", "bias": "beta"})
    m = x.size // shape[1]
    np.testing.assert_allclose(layer.state["running_mean"], t_mean.numpy(), **TOL)
    biased = (t_var.numpy() - 0.7 * var0) / 0.3 * (m - 1) / m
    np.testing.assert_allclose(layer.state["running_var"], 0.7 * var0 + 0.3 * biased, **TOL)


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 2, 5)])
def test_batchnorm_test_mode(rng, shape):
    layer = BatchNorm(shape[1])
    layer.params["gamma"] = rng.uniform(0.5, 2, shape[1])
    layer.params["beta"] = rng.standard_normal(shape[1])
    layer.state = {"running_mean": rng.standard_normal(shape[1]),
                   "running_var": rng.uniform(0.5, 2, shape[1])}
    x = rng.standard_normal(shape)
    expected = F.batch_norm(torch.tensor(x), torch.tensor(layer.state["running_mean"]),
                            torch.tensor(layer.state["running_var"]),
                            torch.tensor(layer.params["gamma"]),
                            torch.tensor(layer.params["beta"]), training=False, eps=layer.eps)
    np.testing.assert_allclose(layer.forward(x, train=False), expected.numpy(), **TOL)


def test_dropout_conventions(rng):
    """PyTorch's dropout is inverted (×1/(1−ρ) in training, identity at test time); the
    course's scales by (1−ρ) at test time. With the same mask they differ by (1−ρ)."""
    layer = Dropout(0.3, rng)
    x = rng.standard_normal((4, 10))
    y = layer.forward(x, train=True)
    inverted = torch.tensor(x) * torch.tensor(layer.mask) / 0.7
    np.testing.assert_allclose(y, 0.7 * inverted.numpy(), **TOL)
    module = torch.nn.Dropout(0.3).eval()
    np.testing.assert_allclose(layer.forward(x, train=False),
                               0.7 * module(torch.tensor(x)).numpy(), **TOL)


@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda: Momentum(0.05, 0.8), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8)),
    (lambda: AdaGrad(0.1, 1e-3),
     lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=1e-3, eps=0)),
    (lambda: RMSProp(0.01, 0.8, 1e-4), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.8,
                                                                     eps=1e-4)),
    (lambda: AdaDelta(0.9, 1e-3), lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9,
                                                                 eps=1e-3)),
    (lambda: Adam(0.01, 0.8, 0.9, 1e-4),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.9), eps=1e-4)),
], ids=["sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam"])
def test_optimizer_trajectories(rng, ours, theirs):
    """Momentum's ΔW = αΔW − η∂E/∂W (eq. 40) is PyTorch's v = αv + ∂E/∂W scaled by −η;
    AdaGrad's h₀ is PyTorch's initial accumulator; AdaDelta is PyTorch's with lr = 1."""
    w = rng.standard_normal((3, 4))
    tw = torch.tensor(w.copy(), requires_grad=True)
    optimizer, t_optimizer = ours(), theirs([tw])
    for _ in range(6):
        g = rng.standard_normal(w.shape)
        optimizer.update({"w": w}, {"w": g})
        tw.grad = torch.tensor(g)
        t_optimizer.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_whole_network(rng):
    """conv – BatchNorm – ReLU – pool – affine – sigmoid – affine, loss and every gradient."""
    spec = [{"kind": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},
            {"kind": "batchnorm"}, {"kind": "relu"}, {"kind": "maxpool2d", "size": 2},
            {"kind": "affine", "out_features": 5}, {"kind": "sigmoid"},
            {"kind": "affine", "out_features": 4}]
    model = build(spec, (2, 6, 6), rng)
    nn = torch.nn
    twin = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3, eps=1e-5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 5), nn.Sigmoid(),
                         nn.Linear(5, 4)).double()
    ours = [p for _, p in model.named_params()]
    with torch.no_grad():
        for p, value in zip(twin.parameters(), ours, strict=True):
            p.copy_(torch.tensor(value))
    x, labels = rng.standard_normal((5, 2, 6, 6)), rng.integers(0, 4, 5)
    loss = model.loss(x, labels, train=True)
    t_loss = F.cross_entropy(twin(torch.tensor(x)), torch.tensor(labels))
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    model.backward()
    t_loss.backward()
    _, grads = model.params_and_grads()
    for g, p in zip(grads.values(), twin.parameters(), strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), **TOL)
