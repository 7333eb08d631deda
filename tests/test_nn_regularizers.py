"""L1 and L2 weight decay: penalties and gradients on weight tensors only, and the trainer
adding them to the minimised loss."""

from __future__ import annotations

import numpy as np
import pytest

from reference.nn import (
    L1,
    L2,
    SGD,
    Affine,
    BatchNorm,
    Conv2d,
    Regularizer,
    ReLU,
    Sequential,
    evaluate,
    train,
)
from tests.gradcheck import numerical_vjp, rel_error


@pytest.fixture
def model() -> Sequential:
    rng = np.random.default_rng(2)
    net = Sequential([Conv2d(1, 2, 3, rng=rng), BatchNorm(2), ReLU(), Affine(2 * 4 * 4, 3, rng)])
    x = rng.standard_normal((4, 1, 6, 6))
    net.loss(x, np.array([0, 1, 2, 0]))
    net.backward()
    return net


@pytest.mark.parametrize(("reg", "penalty"), [
    (L2(0.3), lambda w: 0.15 * np.sum(w * w)),
    (L1(0.3), lambda w: 0.3 * np.sum(np.abs(w))),
])
def test_penalty_and_gradient_on_weights_only(model, reg, penalty):
    before = {f"{i}.{k}": g.copy() for i, layer in enumerate(model.layers)
              for k, g in layer.grads.items()}
    weights = [model.layers[0].params["W"], model.layers[3].params["W"]]
    assert reg.apply(model) == pytest.approx(sum(penalty(w) for w in weights), rel=1e-12)
    for i, layer in enumerate(model.layers):
        for name, grad in layer.grads.items():
            added = grad - before[f"{i}.{name}"]
            if name == "W":  # numerical derivative of the penalty itself
                w = layer.params["W"]
                expected = numerical_vjp(lambda w=w: np.array(penalty(w)), w, np.array(1.0))
                assert rel_error(added, expected) < 1e-7
            else:  # biases and BatchNorm's γ, β are not decayed
                np.testing.assert_array_equal(added, 0.0)


def test_l1_gradient_is_lambda_sign_and_l2_is_lambda_w():
    w = np.array([-2.0, 0.0, 0.5])
    np.testing.assert_array_equal(L1(0.1).gradient(w), [-0.1, 0.0, 0.1])
    np.testing.assert_array_equal(L2(0.1).gradient(w), [-0.2, 0.0, 0.05])


def test_trainer_reports_the_penalised_loss():
    """With η = 0 the weights stay put, so the epoch loss is exactly E_n + R(W)."""
    rng = np.random.default_rng(0)
    net = Sequential([Affine(5, 4, rng), ReLU(), Affine(4, 3, rng)])
    x, labels = rng.standard_normal((30, 5)), rng.integers(0, 3, 30)
    plain, _ = evaluate(net, x, labels)
    reg = L2(0.5)
    penalty = sum(reg.penalty(layer.params["W"]) for layer in (net.layers[0], net.layers[2]))
    history = train(net, SGD(0.0), x, labels, epochs=1, batch_size=7, rng=rng, regularizer=reg)
    assert history.epochs[0].train_loss == pytest.approx(plain + penalty, rel=1e-12)


@pytest.mark.parametrize("reg", [L2(0.05), L1(0.01)])
def test_decay_shrinks_the_weights(reg):
    def trained(regularizer: Regularizer | None) -> float:
        rng = np.random.default_rng(0)
        net = Sequential([Affine(20, 30, rng), ReLU(), Affine(30, 3, rng)])
        x, labels = rng.standard_normal((60, 20)), rng.integers(0, 3, 60)
        train(net, SGD(0.1), x, labels, epochs=30, batch_size=20, rng=rng,
              regularizer=regularizer)
        return float(np.abs(net.layers[0].params["W"]).sum())

    assert trained(reg) < 0.8 * trained(None)


def test_create_by_name():
    assert isinstance(Regularizer.create("l1", 0.1), L1)
    assert Regularizer.create("l2", 0.2).lam == 0.2
    with pytest.raises(ValueError, match=r"unknown regularizer 'l3' \(known: l1, l2\)"):
        Regularizer.create("l3", 0.1)
