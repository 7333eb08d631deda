"""The reference task programs behave exactly as §4 of the course specifies."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.handout import prepare
from reference.data import load_embedded
from reference.nn import load_model
from reference.nn.builders import flatten_images
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded data with a 10,000-image test set, as the grader hands it over."""
    directory = tmp_path_factory.mktemp("mnist")
    prepare(load_embedded(), directory, seed=1)
    return directory


def task(n: int, stdin: str, cwd: Path, mnist_dir: Path | None, *args: str):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MNIST_DIR", None)
    if mnist_dir is not None:
        env["MNIST_DIR"] = str(mnist_dir)
    return subprocess.run([sys.executable, "-m", f"reference.tasks.task{n}", *args],
                          input=stdin, capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_task1_prints_one_digit_deterministically(tmp_path: Path, mnist_dir: Path) -> None:
    outs = {task(1, f"{i}\n", tmp_path, mnist_dir).stdout for i in (9999, 9999)}
    assert len(outs) == 1 and outs.pop().strip() in list("0123456789")
    answers = [task(1, f"{i}\n", tmp_path, mnist_dir).stdout.strip() for i in range(0, 40, 4)]
    assert all(a.isdigit() and len(a) == 1 for a in answers)


@pytest.mark.parametrize(("stdin", "fragment"), [
    ("", "no input"), ("abc\n", "'abc' is not an integer"), ("-1\n", "index -1 is out of range"),
    ("10000\n", "index 10000 is out of range"), ("3.5\n", "not an integer"),
])
def test_bad_stdin_is_one_clear_line(tmp_path: Path, mnist_dir: Path, stdin: str,
                                     fragment: str) -> None:
    r = task(1, stdin, tmp_path, mnist_dir)
    assert r.returncode == 2 and r.stdout == ""
    assert fragment in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    r = task(1, "0\n", tmp_path, tmp_path / "nowhere")
    assert r.returncode == 2 and "MNIST_DIR" in r.stderr and "Traceback" not in r.stderr


def test_embedded_data_is_used_without_mnist_dir(tmp_path: Path) -> None:
    assert task(1, "999\n", tmp_path, None).stdout.strip().isdigit()
    r = task(1, "1000\n", tmp_path, None)
    assert r.returncode == 2 and "1000 images" in r.stderr


def test_task2_loss_is_near_ln10(tmp_path: Path, mnist_dir: Path) -> None:
    r = task(2, "", tmp_path, mnist_dir)
    assert r.returncode == 0 and abs(float(r.stdout) - math.log(10)) < 0.7


def test_task3_then_task4(tmp_path: Path, mnist_dir: Path) -> None:
    r = task(3, "", tmp_path, mnist_dir, "--epochs", "3")
    losses = [float(line) for line in r.stdout.split()]
    assert r.returncode == 0 and len(losses) == 3 and losses[2] < losses[0]
    assert "epoch 3/3" in r.stderr
    model = load_model(tmp_path / "task3_params.npz")
    assert [layer.kind for layer in model.layers] == ["affine", "sigmoid", "affine"]
    answer = task(4, "17\n", tmp_path, mnist_dir)
    assert answer.returncode == 0 and answer.stdout.strip().isdigit()


def test_task4_without_parameters_says_run_task3(tmp_path: Path, mnist_dir: Path) -> None:
    r = task(4, "1\n", tmp_path, mnist_dir)
    assert r.returncode == 2 and "run task 3 first" in r.stderr


@pytest.mark.slow
def test_default_training_reaches_088_on_the_embedded_test_split(tmp_path: Path) -> None:
    r = task(3, "", tmp_path, None)
    assert r.returncode == 0 and len(r.stdout.split()) == 30
    data = load_embedded()
    model = load_model(tmp_path / "task3_params.npz")
    accuracy = np.mean(model.predict(flatten_images(data.test_images)) == data.test_labels)
    print(f"reference task 3 test accuracy on the embedded split: {accuracy:.4f}")
    assert accuracy >= 0.88
