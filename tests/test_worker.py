"""The check worker under misbehaving student code: each problem costs one check only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from grader.grade import grade
from grader.sandbox.inside import protocol as worker
from tests.conftest import API_PLAN

ADAPTER = '''
import numpy as np

class Noisy:
    """A correct ReLU that prints while it works (stdout must not corrupt the protocol)."""
    params, grads = {}, {}
    def forward(self, x, train=False):
        print("debug: forward", x.shape)
        self.mask = x > 0
        return x * self.mask
    def backward(self, dout):
        print("debug: backward")
        return dout * self.mask

class Hang:
    params, grads = {}, {}
    def forward(self, x, train=False):
        while True:
            pass

class Boom:
    params, grads = {}, {}
    def forward(self, x, train=False):
        raise ValueError("boom")

class Text:
    params, grads = {}, {}
    def forward(self, x, train=False):
        return "not an array"

class ReadsStdin:
    """A correct SGD that tries to read stdin (it must not swallow the requests)."""
    def __init__(self, hyper):
        self.lr = hyper["lr"]
    def update(self, params, grads):
        import sys
        sys.stdin.read()
        for k in params:
            params[k] -= self.lr * grads[k]

LAYERS = {"relu": lambda p, c: Noisy(), "sigmoid": lambda p, c: Hang(),
          "affine": lambda p, c: Boom(), "maxpool2d": lambda p, c: Text()}
OPTIMIZERS = {"sgd": ReadsStdin}
'''


def outcomes(doc: dict) -> dict[str, str]:
    return {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}


def test_misbehaving_layers_cost_one_check_each(tmp_path: Path) -> None:
    sub = tmp_path / "student"
    sub.mkdir()
    (sub / "le4nn_adapter.py").write_text(ADAPTER)
    plan = tmp_path / "plan.toml"
    # Hang spins: its CPU budget stops it whatever the machine's load.
    plan.write_text(API_PLAN.read_text().replace("cpu_s = 120", "cpu_s = 5"))
    doc = grade(sub, tmp_path / "out", plan_path=plan)
    got = outcomes(doc)
    assert got["A1.relu.forward"] == got["A1.relu.backward"] == "passed"
    assert got["task3.sgd.update"] == "passed"
    assert got["task3.sigmoid.forward"] == got["task3.sigmoid.backward"] == "timeout"
    assert got["task3.affine.forward"] == "failed"
    assert got["A7.maxpool2d.forward"] == "failed"
    assert got["A6.conv2d.forward"] == "not_attempted"
    tests = {t["name"]: t for t in doc["tests"]}
    boom = tests["task3.affine.forward"]["extra_data"]["message"]["params"]
    assert boom["error"] == "ValueError: boom" and boom["where"].startswith("le4nn_adapter.py:")
    text = tests["A7.maxpool2d.forward"]["extra_data"]["message"]
    assert text["key"] == "api.not_an_array" and text["params"]["got"] == "str"


def test_arrays_cross_the_wire_exactly_and_only_as_numbers() -> None:
    a = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    back = worker.decode(json.loads(json.dumps(worker.encode({"a": a, "n": [1, 2.5]}))))
    assert np.array_equal(back["a"], a) and back["a"].dtype == np.float64
    assert back["n"] == [1, 2.5]
    hostile = {"__array__": ["|O", [1], "AAAAAAAAAAA="]}
    try:
        worker.decode(hostile)
    except ValueError as e:
        assert "not numeric" in str(e)
    else:
        raise AssertionError("an object array was accepted")


def test_notebook_definitions_are_used_without_running_its_training(tmp_path: Path) -> None:
    import nbformat

    sub = tmp_path / "nb_student"
    sub.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell(
            "class Relu:\n"
            "    def forward(self, x):\n"
            "        self.mask = x <= 0\n"
            "        return np.where(self.mask, 0.0, x)\n"
            "    def backward(self, dout):\n"
            "        return np.where(self.mask, 0.0, dout)\n"),
        nbformat.v4.new_code_cell("while True:  # stands for a long training loop\n    pass"),
    ]
    nbformat.write(nb, sub / "task3.ipynb")
    plan = tmp_path / "plan.toml"
    plan.write_text(API_PLAN.read_text().replace("cpu_s = 120", "cpu_s = 10"))
    got = outcomes(grade(sub, tmp_path / "out", plan_path=plan))
    assert got["A1.relu.forward"] == got["A1.relu.backward"] == "passed"
    assert got["task3.affine.forward"] == "not_attempted"
