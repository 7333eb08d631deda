"""Banned shortcuts: frameworks in numpy tasks and numpy routines a plan forbids."""

from __future__ import annotations

from pathlib import Path

from grader.checks.banned import numpy_routines_used, static_imports
from grader.grade import grade


def test_static_scan_finds_imports_and_routines(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import torch.nn as nn\nfrom sklearn import svm\n"
                                   "import numpy as np\ny = np.einsum('ij->i', x)\n")
    (tmp_path / "b.py").write_text("from numpy import tensordot\nfrom . import local\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    assert static_imports(tmp_path)["a.py"] == ["numpy", "sklearn", "torch"]
    assert static_imports(tmp_path)["b.py"] == ["numpy"]
    assert numpy_routines_used(tmp_path, {"einsum", "tensordot"}) == {
        "a.py": ["einsum"], "b.py": ["tensordot"]}


def test_a_submission_importing_sklearn_fails_the_check(tmp_path: Path) -> None:
    sub = tmp_path / "s"
    sub.mkdir()
    (sub / "layers.py").write_text("import sklearn  # need not be installed\n\n"
                                   "class Relu:\n    pass\n")
    plan = tmp_path / "plan.toml"
    plan.write_text('[plan]\nname = "banned"\n[seeds]\n[checks."code.banned_imports"]\n')
    doc = grade(sub, tmp_path / "out", plan_path=plan)
    test = next(t for t in doc["tests"] if t["name"] == "code.banned_imports")
    assert test["extra_data"]["outcome"] == "failed"
    assert test["extra_data"]["details"]["static"] == {"layers.py": ["sklearn"]}
