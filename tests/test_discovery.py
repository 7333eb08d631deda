"""Discovery of the student's layers anywhere in a submission (issue 14.3).

The in-sandbox registry runs in a child process here (it changes ``sys.path`` and
``sys.modules`` as the student's imports need), on small submissions written below;
each test compares what the found code computes with numpy's own result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np

from grader.checks.discovery_words import not_attempted
from grader.i18n import render
from tests.conftest import ROOT

PROBE = """
import json, sys
import numpy as np
from pathlib import Path
from grader.sandbox.inside.discovery import NotAttempted, Registry
r = Registry(Path.cwd())
rng = np.random.default_rng(0)
x, W, b = rng.normal(size=(4, 6)), rng.normal(size=(3, 6)), rng.normal(size=3)
dout = rng.normal(size=(4, 3))
out = {}
for kind in sys.argv[1:]:
    try:
        if kind == "sgd":
            opt = r.optimizer(kind, {"lr": 0.5})
            p = {"W": np.ones(2)}
            opt.update(p, {"W": np.full(2, 2.0)})
            out[kind] = {"found": r.found[kind], "W": p["W"].tolist()}
            continue
        layer = r.layer(kind, {"W": W, "b": b} if kind == "affine" else {}, {})
        y = np.asarray(layer.forward(x, False))
        dx, grads = layer.backward(dout if kind == "affine" else np.ones_like(y))
        out[kind] = {"found": r.found[kind], "y": y.tolist(), "dx": np.asarray(dx).tolist(),
                     "dW": np.asarray(grads.get("W", 0.0)).tolist()}
    except NotAttempted as e:
        out[kind] = {"reason": e.reason}
print(json.dumps(out))
"""


def probe(folder: Path, *kinds: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE, *kinds], cwd=folder, text=True,
                         capture_output=True, timeout=120, env={"PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(textwrap.dedent(text))
    return folder


def expected() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(4, 6)), rng.normal(size=(3, 6)), rng.normal(size=3)
    dout = rng.normal(size=(4, 3))
    return x @ W.T + b, dout @ W, dout.T @ x, x


def test_a_dlfs_package_in_a_subfolder_is_found_with_its_own_imports(tmp_path: Path) -> None:
    sub = write(tmp_path, {
        "common/__init__.py": "",
        "common/functions.py": "import numpy as np\ndef sigmoid(x):\n    return np.tanh(x)\n",
        "common/layers.py": """
            import numpy as np
            from common.functions import sigmoid
            from .functions import sigmoid as s2
            class Affine:
                def __init__(self, W, b):
                    self.W, self.b = W, b
                def forward(self, x):
                    self.x = x
                    return x @ self.W + self.b
                def backward(self, dout):
                    self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
                    return dout @ self.W.T
            net = Affine(np.zeros((6, 3)), np.zeros(3))
            for _ in range(3):
                open("trained", "w").write("x")
            """,
    })
    got = probe(sub, "affine")["affine"]
    y, dx, dW, _ = expected()
    assert got["found"] == "common/layers.py: Affine"
    np.testing.assert_allclose(got["y"], y)
    np.testing.assert_allclose(got["dx"], dx)
    np.testing.assert_allclose(got["dW"], dW)
    assert not (sub / "trained").exists()  # the training loop at top level never ran


def test_cs231n_functions_in_src_are_found_and_w_transposed(tmp_path: Path) -> None:
    sub = write(tmp_path, {"src/layers.py": """
        def affine_forward(x, w, b):
            return x @ w + b, (x, w, b)
        def affine_backward(dout, cache):
            x, w, b = cache
            return dout @ w.T, x.T @ dout, dout.sum(axis=0)
        def sgd(w, dw, config=None):
            config = config or {}
            return w - config.get("learning_rate", 1e-2) * dw, config
        """})
    got = probe(sub, "affine", "sgd")
    y, dx, dW, _ = expected()
    assert got["affine"]["found"] == "src/layers.py: affine_forward + affine_backward"
    np.testing.assert_allclose(got["affine"]["y"], y)
    np.testing.assert_allclose(got["affine"]["dx"], dx)
    np.testing.assert_allclose(got["affine"]["dW"], dW)
    assert got["sgd"] == {"found": "src/layers.py: sgd", "W": [0.0, 0.0]}


def test_a_notebook_class_is_found(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
                nbformat.v4.new_code_cell(
                    "class Sigmoid:\n    def forward(self, x):\n"
                    "        self.y = 1 / (1 + np.exp(-x))\n        return self.y\n"
                    "    def backward(self, d):\n"
                    "        return d * self.y * (1 - self.y)\n")]
    (tmp_path / "work").mkdir()
    nbformat.write(nb, tmp_path / "work" / "layers.ipynb")
    got = probe(tmp_path, "sigmoid")["sigmoid"]
    _, _, _, x = expected()
    s = 1 / (1 + np.exp(-x))
    assert got["found"] == "work/layers.ipynb: Sigmoid"
    np.testing.assert_allclose(got["y"], s)
    np.testing.assert_allclose(got["dx"], s * (1 - s))


def test_nothing_or_a_forward_alone_says_what_was_looked_for(tmp_path: Path) -> None:
    sub = write(tmp_path, {"task1.py": "import numpy as np\n"
                                       "def relu(x):\n    return np.maximum(x, 0)\n"})
    got = probe(sub, "relu", "sigmoid")
    assert got["relu"]["reason"]["why"] == "forward_only"
    assert got["relu"]["reason"]["file"] == "task1.py"
    assert got["sigmoid"]["reason"]["why"] == "not_found"
    ja = render(not_attempted("relu", got["relu"]["reason"]), "ja")
    en = render(not_attempted("sigmoid", got["sigmoid"]["reason"]), "en")
    assert "task1.py" in ja and "docs/api.ja.md#2-" in ja
    assert "docs/api.en.md#2-an-adapter" in en and "sigmoid" in en
