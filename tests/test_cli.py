"""``python -m grader``: exit codes, one-line errors, outputs, re-rendering."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAST_PLAN, REFERENCE, ROOT


def grader(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MNIST_DIR", None)
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture
def task2_only(tmp_path: Path) -> Path:
    sub = tmp_path / "s1234"
    sub.mkdir()
    shutil.copy(REFERENCE / "task2.py", sub / "task2.py")
    shutil.copytree(REFERENCE / "reference", sub / "reference")  # the modules it uses
    return sub


def test_grade_writes_results_and_reports(task2_only: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = grader("grade", str(task2_only), "--out", str(out), "--plan", str(FAST_PLAN))
    assert r.returncode == 0, r.stderr
    assert "task2.cross_entropy" in r.stdout and "3 / 16" in r.stdout
    # Checks run side by side, so progress lines come in the order checks finish.
    assert re.search(r"^\[ ?\d+/10\] task2\.cross_entropy +passed", r.stderr, re.M), r.stderr
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["score"] == 3 and doc["extra_data"]["submission"]["student_id"] == "s1234"
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'lang="ja"' in html

    r = grader("report", str(out), "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert 'lang="en"' in (out / "en" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "fragment"), [
    (["grade", "no/such/dir"], "no such folder"),
    (["grade", ".", "--plan", "nope.toml"], "plan file not found"),
    (["grade", ".", "--data-dir", "nowhere"], "nowhere: no such directory"),
    (["report", "nowhere"], "results.json: not found"),
])
def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                             fragment: str) -> None:
    (tmp_path / "task1.py").write_text("print(0)\n")
    r = grader(*args, cwd=tmp_path)
    assert r.returncode == 2 and fragment in r.stderr
    lines = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr and lines[-1].startswith("error: ")
    assert sum(line.startswith("error") for line in lines) == 1


def test_handout_writes_the_public_data(tmp_path: Path) -> None:
    r = grader("handout", str(tmp_path / "data"))
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert names == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                     "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
