"""The A1–A7 training configurations and ``python -m reference.tasks.train``: every config
builds for MNIST and CIFAR-10 input, trains, writes its parameter file and metrics CSV;
the slow tests reproduce the advanced tasks' accuracy targets on the embedded data."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from reference.data import Dataset, load_embedded
from reference.nn import Optimizer, RMSProp, evaluate, load_model, train
from reference.nn.builders import build, images_to_tensor
from reference.tasks import train as train_cli
from reference.tasks.configs import ConfigError, TrainConfig, load_config, names
from reference.tasks.train import METRICS, apply_options, parser, run
from tests.cifar_files import write_dataset

CONFIGS = ["a1_relu", "a2_dropout", "a3_batchnorm", "a4_adam", "a5_cifar10", "a6_cnn",
           "a7_pool"]


def test_every_advanced_task_has_a_config():
    assert names() == CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("input_shape", [(1, 28, 28), (3, 32, 32)], ids=["mnist", "cifar10"])
def test_config_builds_for_grey_and_colour_images(name, input_shape):
    config = load_config(name)
    assert config.name == name and config.description.strip()
    model = build(config.layers, input_shape, np.random.default_rng(0)).astype(np.float32)
    y = model.forward(np.zeros((2, *input_shape), np.float32))
    assert y.shape == (2, 10) and y.dtype == np.float32


def small_mnist(n_train: int = 100, n_test: int = 50) -> Dataset:
    data = load_embedded()
    return Dataset(data.train_images[:n_train], data.train_labels[:n_train],
                   data.test_images[:n_test], data.test_labels[:n_test], "first images")


@pytest.mark.parametrize("name", [n for n in CONFIGS if n != "a5_cifar10"])
def test_run_writes_parameters_and_metrics(tmp_path, name):
    config = dataclasses.replace(load_config(name), epochs=2)
    data = small_mnist()
    model, params_path, metrics_path = run(config, data, tmp_path)
    assert params_path == tmp_path / f"{name}.npz"
    with open(metrics_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == METRICS
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert all(0.0 <= float(r["test_accuracy"]) <= 1.0 and float(r["train_loss"]) > 0
               for r in rows)
    x = images_to_tensor(data.test_images)
    loaded = load_model(params_path)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert all(p.dtype == np.float32 for _, p in loaded.named_params())


def test_command_line_trains_and_reports_on_stderr(tmp_path, capsys):
    train_cli.main(["--config", "a1_relu", "--epochs", "2", "--seed", "3", "--out",
                    str(tmp_path)])
    out, err = capsys.readouterr()
    assert out == ""
    assert "epoch 1/2: train loss" in err and "epoch 2/2" in err
    assert (tmp_path / "a1_relu.npz").is_file()
    assert len((tmp_path / "a1_relu_metrics.csv").read_text().splitlines()) == 3


def test_options_override_the_config():
    args = parser().parse_args(["--config", "a4_adam", "--epochs", "3", "--seed", "9",
                                "--optimizer", "rmsprop", "--l2", "1e-4"])
    config = apply_options(load_config("a4_adam"), args)
    assert (config.epochs, config.seed) == (3, 9)
    assert config.optimizer == {"kind": "rmsprop"}
    assert config.regularizer == {"kind": "l2", "lam": 1e-4}
    assert config.name == "a4_adam-rmsprop-l2_0.0001"


def test_optimizer_option_uses_the_courses_defaults(tmp_path, monkeypatch):
    used = []
    monkeypatch.setattr(train_cli, "train", lambda model, optimizer, *a, **k: used.append(
        optimizer))
    args = parser().parse_args(["--config", "a1_relu", "--optimizer", "rmsprop"])
    run(apply_options(load_config("a1_relu"), args), small_mnist(10, 5), tmp_path)
    assert isinstance(used[0], RMSProp) and used[0].lr == 0.001


def test_cifar10_config_trains_on_colour_batches(tmp_path, capsys):
    write_dataset(tmp_path / "cifar", np.random.default_rng(0), per_batch=4)
    train_cli.main(["--config", "a5_cifar10", "--epochs", "1", "--data-dir",
                    str(tmp_path / "cifar"), "--out", str(tmp_path / "out")])
    assert "3×32×32" in capsys.readouterr().err
    model = load_model(tmp_path / "out" / "a5_cifar10.npz")
    assert model.layers[0].config()["in_channels"] == 3


@pytest.mark.parametrize(("argv", "message"), [
    (["--config", "a9_transformer"], "no config named 'a9_transformer'"),
    (["--config", "a5_cifar10"], "CIFAR10_DIR is not set"),
    (["--config", "a1_relu", "--epochs", "0"], "epochs and batch_size must be ≥ 1"),
])
def test_expected_failures_are_one_line_and_exit_status_2(tmp_path, capsys, monkeypatch,
                                                          argv, message):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        train_cli.cli([*argv, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_toml_config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text('description = "tiny"\nepochs = 1\n'
                    'optimizer = {kind = "momentum", lr = 0.1}\n'
                    '[[layers]]\nkind = "affine"\nout_features = 8\n'
                    '[[layers]]\nkind = "relu"\n'
                    '[[layers]]\nkind = "affine"\nout_features = 10\n', encoding="utf-8")
    config = load_config(str(path))
    assert config.name == "tiny" and len(config.layers) == 3
    model, _, _ = run(config, small_mnist(20, 10), tmp_path)
    assert model.layers[0].config()["in_features"] == 784


def test_toml_config_with_unknown_keys(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('description = "x"\nepochs = 1\noptimizer = {kind = "sgd"}\nlayers = []\n'
                    'learning_rate = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key.*learning_rate"):
        load_config(str(path))


def test_bad_layer_spec_is_a_config_error(tmp_path):
    config = TrainConfig("broken", "x", ({"kind": "affine", "width": 3},), {"kind": "sgd"}, 1)
    with pytest.raises(ConfigError, match=r"config broken: .*width"):
        run(config, small_mnist(10, 5), tmp_path)


# ---- accuracy targets of the advanced tasks on the embedded data (4,000 / 1,000) --------


def train_on_embedded(name: str, **changes) -> tuple[list[float], float]:
    """Train config ``name`` (with ``changes``); its epoch losses and test accuracy."""
    config = dataclasses.replace(load_config(name), **changes)
    data = load_embedded()
    x, labels = images_to_tensor(data.train_images), data.train_labels.astype(np.intp)
    rng = np.random.default_rng(config.seed)
    model = build(config.layers, x.shape[1:], rng).astype(np.float32)
    with np.errstate(all="ignore"):  # a diverging run may overflow; that is what is tested
        history = train(model, Optimizer.create(**config.optimizer), x, labels,
                        epochs=config.epochs, batch_size=config.batch_size, rng=rng)
        accuracy = evaluate(model, images_to_tensor(data.test_images),
                            data.test_labels.astype(np.intp))[1]
    return history.train_losses, accuracy


@pytest.mark.slow
def test_relu_dropout_adam_mlp_reaches_94_percent():
    assert load_config("a2_dropout").optimizer["kind"] == "adam"
    assert train_on_embedded("a2_dropout")[1] >= 0.94


@pytest.mark.slow
def test_cnn_reaches_96_percent():
    assert train_on_embedded("a6_cnn")[1] >= 0.96


@pytest.mark.slow
def test_batchnorm_trains_at_ten_times_the_learning_rate():
    """A3's η = 5.0 is ten times A1's; the same MLP without BatchNorm diverges at it."""
    plain_lr = load_config("a1_relu").optimizer["lr"]
    bn_lr = load_config("a3_batchnorm").optimizer["lr"]
    assert bn_lr == 10 * plain_lr
    losses, accuracy = train_on_embedded("a3_batchnorm", epochs=10)
    assert np.isfinite(losses).all() and losses[-1] < losses[0] / 5
    assert accuracy >= 0.93
    _, plain_accuracy = train_on_embedded("a1_relu", epochs=10,
                                          optimizer={"kind": "sgd", "lr": bn_lr})
    assert plain_accuracy < 0.2  # chance level: without BatchNorm it diverged
