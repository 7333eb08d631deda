"""Several candidates for one kind (issue 14.3): which is graded, and what the report says.

Each submission below holds two implementations of one kind; the one the student's task
programs use computes the right answer and the other a wrong one, so the values prove
which was called, and ``found`` must name it with the others in brackets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.checks.discovery_words import not_attempted
from grader.i18n import render
from tests.test_discovery import expected, probe, write
from tests.validity.layouts import DLFS, dlfs_package

AFFINE = """
import numpy as np
class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
    def forward(self, x):
        self.x = x
        return x @ self.W + {shift} * self.b
    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return dout @ self.W.T
"""
RIGHT, WRONG = AFFINE.format(shift=1), AFFINE.format(shift=2)


def _affine_is_right(out: dict) -> None:
    y, dx, dW, _ = expected()
    assert np.allclose(out["y"], y) and np.allclose(out["dx"], dx)
    assert np.allclose(out["dW"], dW)


def test_the_module_the_task_programs_import_beats_a_shallower_one(tmp_path: Path) -> None:
    sub = write(tmp_path, {"common/__init__.py": "", "common/layers.py": RIGHT,
                           "layers.py": WRONG,
                           "task3.py": "from common.layers import Affine\n"})
    out = probe(sub, "affine")["affine"]
    assert out["found"] == "common/layers.py: Affine (layers.py: Affine)"
    _affine_is_right(out)


def test_imports_are_followed_from_file_to_file(tmp_path: Path) -> None:
    """task3 → ch05/net.py → lib/nn.py (found from ch05's parent, as sys.path.append does)."""
    sub = write(tmp_path, {"lib/nn.py": RIGHT, "old.py": WRONG,
                           "ch05/net.py": "import sys, os\nsys.path.append(os.pardir)\n"
                                          "from lib.nn import *\n",
                           "task3.py": "from ch05 import net\n"})
    out = probe(sub, "affine")["affine"]
    assert out["found"] == "lib/nn.py: Affine (old.py: Affine)"
    _affine_is_right(out)


def test_when_nothing_imports_them_the_shallower_file_is_graded(tmp_path: Path) -> None:
    sub = write(tmp_path, {"src/layers.py": RIGHT, "src/old/layers.py": WRONG})
    out = probe(sub, "affine")["affine"]
    assert out["found"] == "src/layers.py: Affine (src/old/layers.py: Affine)"
    _affine_is_right(out)


def test_a_class_beats_a_function_and_the_function_is_listed(tmp_path: Path) -> None:
    sub = write(tmp_path, {"layers.py": """
        import numpy as np
        class Relu:
            def forward(self, x):
                self.mask = x <= 0
                return np.where(self.mask, 0.0, x)
            def backward(self, dout):
                return np.where(self.mask, 0.0, dout)
        def relu_forward(x):
            return np.abs(x), x
        def relu_backward(dout, cache):
            return dout
        """})
    out = probe(sub, "relu")["relu"]
    assert out["found"] == "layers.py: Relu (layers.py: relu_forward)"
    x = np.random.default_rng(0).normal(size=(4, 6))
    assert np.allclose(out["y"], np.maximum(x, 0.0))


def test_equal_candidates_with_different_code_are_not_guessed_between(tmp_path: Path) -> None:
    sub = write(tmp_path, {"a.py": RIGHT, "b.py": WRONG, "task3.py": "import a\nimport b\n"})
    reason = probe(sub, "affine")["affine"]["reason"]
    assert reason["why"] == "ambiguous"
    assert reason["candidates"] == ["a.py: Affine", "b.py: Affine"]
    for lang, link in (("ja", "docs/api.ja.md#2-アダプタ"), ("en", "docs/api.en.md#2-an-adapter")):
        text = render(not_attempted("affine", reason), lang)
        assert "a.py: Affine, b.py: Affine" in text and "Affine" in text and link in text
    assert "この" in render(not_attempted("affine", reason), "ja")


def test_copies_of_one_definition_are_not_a_conflict(tmp_path: Path) -> None:
    sub = write(tmp_path, {"a.py": RIGHT, "b.py": RIGHT})
    out = probe(sub, "affine")["affine"]
    assert out["found"] == "a.py: Affine (b.py: Affine)"
    _affine_is_right(out)


def test_the_optimizer_the_task_programs_import_is_graded(tmp_path: Path) -> None:
    sgd = "class SGD:\n    def __init__(self, lr=0.01):\n        self.lr = lr\n" \
          "    def update(self, params, grads):\n        for k in params:\n" \
          "            params[k] -= {f} * self.lr * grads[k]\n"
    sub = write(tmp_path, {"optim/sgd.py": sgd.format(f=1), "sgd.py": sgd.format(f=3),
                           "task3.py": "from optim.sgd import SGD\n"})
    out = probe(sub, "sgd")["sgd"]
    assert out["found"] == "optim/sgd.py: SGD (sgd.py: SGD)"
    assert out["W"] == [0.0, 0.0]  # 1 − 0.5 · 2


def test_the_dlfs_package_fixture_is_the_books_layout(tmp_path: Path) -> None:
    """common/ built from honest/dlfs: same bytes, nothing left at the top, found there."""
    common = dlfs_package(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["common"]
    for name in ("layers.py", "optimizer.py"):
        assert (common / name).read_bytes() == (DLFS / name).read_bytes()
    assert {p.name for p in (DLFS / "common").glob("*.py")} < {p.name for p in common.iterdir()}
    write(tmp_path, {"task3.py": "from common.layers import Affine\n"})
    found = probe(tmp_path, "affine", "sgd")
    assert found["affine"]["found"] == "common/layers.py: Affine"
    assert found["sgd"]["found"] == "common/optimizer.py: SGD"


def test_the_training_programs_own_code_beats_another_task_programs(tmp_path: Path) -> None:
    """task4.py keeps an older copy of the layer: task 3, where layers learn, is graded."""
    sub = write(tmp_path, {"task3.py": RIGHT, "task4.py": WRONG, "task1.py": WRONG})
    out = probe(sub, "affine")["affine"]
    assert out["found"] == "task3.py: Affine (task1.py: Affine, task4.py: Affine)"
    _affine_is_right(out)
