"""Submissions are found and copied faithfully; the handout hides the test labels."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.handout import TEST_SIZE, prepare, shuffled_test_order
from grader.notebook import MAX_NOTEBOOK_BYTES
from grader.submission import SubmissionError, load, make_workspace
from reference.data import load_embedded, read_mnist_dir


def test_programs_found_and_notebook_converted(tmp_path: Path) -> None:
    sub_dir = tmp_path / "alice"
    sub_dir.mkdir()
    (sub_dir / "task1.py").write_text("print(1)\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 課題2"),
                nbformat.v4.new_code_cell("%matplotlib inline\nimport math\nprint(math.log(10))"),
                nbformat.v4.new_code_cell("!pip install numpy\nprint('done')")]
    nbformat.write(nb, sub_dir / "task2.ipynb")
    (sub_dir / "task3.ipynb").write_text("{not json")
    sub = load(sub_dir)
    assert sub.student_id == "alice" and set(sub.programs) == {"task1", "task2", "task3"}
    problems = make_workspace(sub, tmp_path / "ws")
    script = (tmp_path / "ws" / "task2.py").read_text()
    assert "# %matplotlib inline" in script and "# !pip install numpy" in script
    assert "print(math.log(10))" in script and "課題2" not in script
    assert set(problems) == {"task3"} and problems["task3"].key == "check.notebook_invalid"
    assert "not a valid notebook" in problems["task3"].params["reason"]
    assert (tmp_path / "ws" / "task1.py").read_text() == "print(1)\n"


def test_hash_depends_on_content_only(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "task1.py").write_text("print(1)\n")
    assert load(a).sha256 == load(b).sha256
    (b / "task1.py").write_text("print(2)\n")
    assert load(a).sha256 != load(b).sha256


def test_symlinks_and_caches_are_not_copied(tmp_path: Path) -> None:
    d = tmp_path / "s"
    (d / "__pycache__").mkdir(parents=True)
    (d / "__pycache__" / "x.pyc").write_bytes(b"0")
    (d / "task1.py").write_text("")
    (d / "leak").symlink_to("/etc/passwd")
    assert load(d).files == [Path("task1.py")]


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_unusable_paths_are_clear_errors(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.py"
    if kind == "file":
        path.write_text("")
    with pytest.raises(SubmissionError, match=r"folder holding task1\.py"):
        load(path)


def test_shuffled_order_covers_each_image_equally() -> None:
    order = shuffled_test_order(1000, TEST_SIZE, np.random.default_rng(3))
    assert order.shape == (TEST_SIZE,)
    assert set(np.bincount(order, minlength=1000)) == {10}
    assert not np.array_equal(order[:1000], order[1000:2000])


def test_handout_hides_labels_and_keeps_them_aligned(tmp_path: Path) -> None:
    data = load_embedded()
    handed = prepare(data, tmp_path, seed=5)
    files = read_mnist_dir(tmp_path)
    assert files.n_test == TEST_SIZE and not files.test_labels.any()
    assert np.array_equal(files.train_labels, data.train_labels)
    assert np.array_equal(files.test_images, handed.test_images)
    # The kept labels belong to the handed images: each is the label of the real test image
    # it was perturbed from (tests/test_handout.py checks the perturbation itself).
    assert np.array_equal(handed.test_labels, data.test_labels[handed.origin])
    assert not np.array_equal(handed.origin[:1000], np.arange(1000))


def test_a_notebook_too_large_is_a_clear_problem_not_a_parse(tmp_path: Path) -> None:
    sub_dir = tmp_path / "sub"
    sub_dir.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    nbformat.write(nb, sub_dir / "task1.ipynb")
    with open(sub_dir / "task1.ipynb", "a") as f:
        f.truncate(MAX_NOTEBOOK_BYTES + 1)  # sparse: big on paper, cheap on disk
    problems = make_workspace(load(sub_dir), tmp_path / "ws")
    reason = problems["task1"].params["reason"]
    assert reason.startswith("task1.ipynb: larger than the 20 MB") and "Clear Output" in reason
