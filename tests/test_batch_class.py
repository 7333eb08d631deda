"""A realistic class of 20 graded end to end on both executors, with similarity flagged."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.batch import run_batch
from grader.batch.similarity_pass import SIMILARITY_FILE, read_similarity
from grader.report.class_report import render_class_report
from grader.results import read_results
from tests.conftest import EXAMPLES, REFERENCE, ROOT

pytestmark = pytest.mark.slow
PLAN = ROOT / "tests" / "plans" / "batch.toml"
HOSTILE_SCORES = {"h_exit_at_import": 1, "h_flood": 1, "h_fake_results": 3,
                  "h_kills_parent": 4, "h_memory_bomb": 1, "h_reads_plan": 1}

# folder → files, and the score it may reach: a hostile act earns nothing, but the checks it
# does not touch still judge what the program printed (h_kills_parent prints a valid answer).
HOSTILE = {
    "h_exit_at_import": {"task1.py": "import os\nos._exit(0)\n"},
    "h_flood": {"task1.py": "import sys\nwhile True:\n    sys.stdout.write('7' * 65536)\n"},
    "h_memory_bomb": {"task1.py": "x = bytearray(16 * 2**30)\nprint(0)\n"},
    "h_kills_parent": {"task1.py": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                                   "print(3)\n"},
    "h_fake_results": {"task1.py": "print('{\"score\": 100, \"tests\": []}')\n"},
    "h_reads_plan": {"task2.py": f"print(open({str(ROOT / 'grader/plans/public.toml')!r})"
                                 ".read()[:40])\n"},
}


def renamed(source: str) -> str:
    """The disguise of a copier: other names, other comments, same code."""
    for old, new in (("self.mask", "self.keep"), ("dout", "grad_out"), ("out", "result"),
                     ("Sigmoid", "Sigmoid"), ("x", "inp")):
        source = re.sub(rf"\b{re.escape(old)}\b", new, source)
    return source.replace('"""', '"""Note: ', 1)


def make_class(root: Path) -> None:
    for i in range(4):
        shutil.copytree(REFERENCE, root / f"ref{i}")
    for name in ("nondeterministic_task1", "wrong_format_task1", "hanging_task2",
                 "not_learning_task3", "ignores_input_task4"):
        shutil.copytree(EXAMPLES / name, root / name)
    shutil.copytree(EXAMPLES / "dlfs_style", root / "dlfs")
    shutil.copytree(EXAMPLES / "dlfs_style", root / "dlfs_renamed")
    for f in (root / "dlfs_renamed").glob("*.py"):
        f.write_text(renamed(f.read_text()))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell((EXAMPLES / "dlfs_style" / n).read_text())
                for n in ("util.py", "layers.py", "optimizer.py")]
    nb.cells[1].source = nb.cells[1].source.replace("from util import col2im, im2col\n", "")
    (root / "dlfs_notebook").mkdir()
    nbformat.write(nb, root / "dlfs_notebook" / "layers.ipynb")
    for name, files in HOSTILE.items():
        (root / name).mkdir()
        for fname, text in files.items():
            (root / name / fname).write_text(text)
    (root / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "lonely.ipynb").write_text("{ invalid json")


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_class_of_twenty(executor: str, tmp_path: Path) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    make_class(root)
    kwargs: dict = {"plan_path": PLAN, "skeleton": REFERENCE, "jobs": 2}
    if executor == "dask":
        distributed = pytest.importorskip("dask.distributed")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        kwargs["scheduler"] = cluster.scheduler_address
    try:
        summary = run_batch(root, out, **kwargs)
    finally:
        if executor == "dask":
            cluster.close()
    students = {p.name.removesuffix(".zip").removesuffix(".ipynb") for p in root.iterdir()}
    assert len(students) >= 20
    assert set(summary.graded) == students - {"broken"} and not summary.failed
    assert set(summary.not_graded) == {"broken"}
    scores = {s: read_results(out / s / "results.json")["score"] for s in students}
    assert scores["ref0"] == 10  # every check of the plan, the written report included
    assert scores["dlfs"] == scores["dlfs_renamed"] == 5  # layers + no banned import
    assert read_results(out / "dlfs_notebook" / "results.json")["score"] >= 4
    assert "error" in read_results(out / "broken" / "results.json")["extra_data"]
    for name, expected in HOSTILE_SCORES.items():
        assert scores[name] == expected, f"{name} scored {scores[name]}"

    pairs = read_similarity(out / SIMILARITY_FILE)
    flagged = {frozenset((p["a"], p["b"])) for p in pairs if p["method"] == "code"}
    assert flagged == {frozenset(c) for c in (("dlfs", "dlfs_renamed"), ("dlfs", "dlfs_notebook"),
                                              ("dlfs_notebook", "dlfs_renamed"))}
    paths = render_class_report(out, out / "_class_report", "en", similarity=pairs)
    html = paths["html"].read_text(encoding="utf-8")
    assert "dlfs_renamed" in html and paths["csv"].read_text(encoding="utf-8-sig").count("\n") > 20
