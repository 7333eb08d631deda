"""Whole networks: building from specs, gradients through every layer kind at once, the
float32/float64 switch, save/load round trips, and overfitting 50 images."""

from __future__ import annotations

import numpy as np
import pytest

from reference.data import load_embedded
from reference.nn import (
    Adam,
    Dropout,
    Layer,
    ModelFileError,
    Optimizer,
    Sequential,
    evaluate,
    load_model,
    save_model,
    train,
)
from reference.nn.builders import build, images_to_tensor, mlp
from reference.tasks.configs import load_config
from tests.gradcheck import numerical_vjp, rel_error

# One layer of every kind, inputs 1×10×10 (for the round trip and gradient check).
ALL_KINDS = [
    {"kind": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1, "init": "he"},
    {"kind": "batchnorm"},
    {"kind": "relu"},
    {"kind": "maxpool2d", "size": 3, "stride": 2},
    {"kind": "flatten"},
    {"kind": "affine", "out_features": 6, "init": "xavier"},
    {"kind": "batchnorm"},
    {"kind": "sigmoid"},
    {"kind": "dropout", "rate": 0.25},
    {"kind": "affine", "out_features": 4},
]


def every_kind_model(seed: int = 0) -> Sequential:
    return build(ALL_KINDS, (1, 10, 10), np.random.default_rng(seed))


def test_every_layer_kind_is_covered():
    assert {spec["kind"] for spec in ALL_KINDS} == set(Layer.registry)


def test_build_infers_sizes_and_rebuilds_from_its_architecture():
    model = every_kind_model()
    configs = [layer.config() for layer in model.layers]
    assert configs[0]["in_channels"] == 1
    assert configs[1]["num_features"] == 3
    assert configs[5]["in_features"] == 3 * 4 * 4
    assert configs[6]["num_features"] == 6
    rebuilt = Sequential.from_architecture(model.architecture())
    assert [layer.config() for layer in rebuilt.layers] == configs


def test_first_layer_does_not_compute_an_input_gradient():
    model = every_kind_model()
    assert not model.layers[0].input_grad
    assert all(layer.input_grad for layer in model.layers[1:])


def test_network_gradient_of_every_parameter():
    """Backprop through all kinds at once equals numerical derivatives of the loss (eq. 8)."""
    rng = np.random.default_rng(1)
    model = every_kind_model()
    x, labels = rng.standard_normal((6, 1, 10, 10)), rng.integers(0, 4, 6)
    saved = {name: value.copy() for name, value in model.named_state()}
    model.loss(x, labels, train=True)
    for layer in model.layers:
        if isinstance(layer, Dropout):
            layer.fixed_mask = True

    def loss() -> np.ndarray:
        value = model.loss(x, labels, train=True)
        for name, state in model.named_state():
            state[...] = saved[name]
        return np.array(value)

    loss()
    model.backward()
    params, grads = model.params_and_grads()
    analytic = {name: g.copy() for name, g in grads.items()}
    before_bn = {f"{i}.b" for i, layer in enumerate(model.layers[:-1])
                 if model.layers[i + 1].kind == "batchnorm"}
    assert before_bn == {"0.b", "5.b"}
    for name, p in params.items():
        numerical = numerical_vjp(loss, p, np.array(1.0))
        if name in before_bn:  # BatchNorm subtracts any bias: ∂E/∂b is exactly 0
            assert np.abs(analytic[name]).max() < 1e-12
            assert np.abs(numerical).max() < 1e-9
        else:  # ReLU and max pooling have kinks; a random start keeps them far from h
            assert rel_error(analytic[name], numerical) < 1e-6, name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_astype_switches_every_array_and_every_computation(dtype):
    rng = np.random.default_rng(0)
    model = every_kind_model().astype(dtype)
    x = rng.standard_normal((5, 1, 10, 10)).astype(dtype)
    model.loss(x, rng.integers(0, 4, 5), train=True)
    model.backward()
    params, grads = model.params_and_grads()
    arrays = [*params.values(), *grads.values(), *(v for _, v in model.named_state())]
    assert all(a.dtype == dtype for a in arrays)
    assert model.forward(x).dtype == dtype


def test_save_load_round_trip_of_every_kind(tmp_path):
    rng = np.random.default_rng(3)
    model = every_kind_model().astype(np.float32)
    x = rng.standard_normal((8, 1, 10, 10)).astype(np.float32)
    train(model, Adam(), x, rng.integers(0, 4, 8), epochs=2, batch_size=4, rng=rng)
    loaded = load_model(save_model(tmp_path / "all", model))
    assert loaded.architecture() == model.architecture()
    for (name, a), (name_b, b) in zip([*model.named_params(), *model.named_state()],
                                      [*loaded.named_params(), *loaded.named_state()],
                                      strict=True):
        assert name == name_b
        assert b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    running = dict(loaded.named_state())["1.running_mean"]
    assert np.any(running != 0), "BatchNorm running statistics must have been trained"
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_load_refuses_a_file_without_the_running_statistics(tmp_path):
    model = every_kind_model()
    path = save_model(tmp_path / "m", model)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if not k.endswith("running_var")}
    np.savez(tmp_path / "broken.npz", **arrays)
    with pytest.raises(ModelFileError, match="running_var"):
        load_model(tmp_path / "broken.npz")


def test_task_network_files_still_load(tmp_path):
    """A model without state (the tasks' MLP) saves and loads as before."""
    model = mlp([784, 100, 10], np.random.default_rng(0)).astype(np.float32)
    loaded = load_model(save_model(tmp_path / "task3_params.npz", model))
    assert [name for name, _ in loaded.named_params()] == ["0.W", "0.b", "2.W", "2.b"]
    assert list(loaded.named_state()) == []


@pytest.fixture(scope="module")
def fifty_images() -> tuple[np.ndarray, np.ndarray]:
    data = load_embedded()
    return images_to_tensor(data.train_images[:50]), data.train_labels[:50].astype(np.intp)


@pytest.mark.parametrize(("config", "optimizer", "batch_size", "epochs"), [
    ("a1_relu", {"kind": "sgd", "lr": 0.5}, 10, 20),
    ("a2_dropout", {"kind": "adam", "alpha": 0.003}, 10, 15),
    ("a3_batchnorm", {"kind": "sgd", "lr": 0.5}, 50, 15),
    ("a6_cnn", {"kind": "adam", "alpha": 0.003}, 10, 15),
    pytest.param("a7_pool", {"kind": "adam", "alpha": 0.003}, 50, 60, marks=pytest.mark.slow),
])
def test_networks_overfit_fifty_images(fifty_images, config, optimizer, batch_size, epochs):
    """Training accuracy, measured in test mode (dropout scaled, BatchNorm on its running
    estimates), reaches 100 %: the whole chain of forward, backward and update works."""
    x, labels = fifty_images
    rng = np.random.default_rng(0)
    model = build(load_config(config).layers, x.shape[1:], rng).astype(np.float32)
    train(model, Optimizer.create(**optimizer), x, labels, epochs=epochs,
          batch_size=batch_size, rng=rng)
    assert evaluate(model, x, labels)[1] == 1.0
