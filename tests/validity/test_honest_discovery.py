"""Honest submissions in other styles get full marks on the required part (issue 14.3).

``discovery_functional``: plain numpy functions in the task scripts, as docs/submission
describes; ``course_loader``: the same, reading MNIST with python-mnist and ``pylab`` as
the course text's sample1.py does; ``discovery_dlfs_package``: the unmodified
``common/`` package of "Deep Learning from Scratch" with small task programs (its
``common/`` is built at test time from tests/validity/honest/dlfs:
:func:`tests.validity.layouts.dlfs_package`). Graded with the public plan; every task 3
layer check must have found and graded the student's own code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grade import grade
from tests.validity.layouts import honest_submission

pytestmark = pytest.mark.slow
FOUND = {
    "discovery_functional": {
        # every task script defines its own forward functions: the graded one has its
        # backward beside it, the others are listed in brackets
        "task3.affine.forward": "affine ← task3.py: affine + affine_backward (task1.py: affine, "
                                "task2.py: affine, task4.py: affine)",
        "task3.softmax_cross_entropy.backward": "softmax_cross_entropy ← task3.py: softmax + "
                                                "cross_entropy + softmax_cross_entropy_backward "
                                                "(task1.py: softmax, task2.py: softmax, "
                                                "task4.py: softmax)",
        "task3.sgd.update": "sgd ← task3.py: sgd"},
    "discovery_dlfs_package": {
        "task3.affine.forward": "affine ← common/layers.py: Affine",
        "task3.softmax_cross_entropy.backward": "softmax_cross_entropy ← common/layers.py: "
                                                "SoftmaxWithLoss (common/functions.py: "
                                                "softmax_loss, common/functions.py: softmax)",
        "task3.sgd.update": "sgd ← common/optimizer.py: SGD"},
}

FOUND["course_loader"] = FOUND["discovery_functional"]


@pytest.mark.parametrize("name", sorted(FOUND))
def test_honest_submission_gets_full_required_marks(name: str, tmp_path: Path) -> None:
    doc = grade(honest_submission(name, tmp_path), tmp_path / "out")
    required = next(p for p in doc["extra_data"]["parts"] if p["id"] == "required")
    assert required["score"] == required["max_score"] > 0
    assert required["excluded"] == []  # graded, not left out as uncallable
    rows = {t["extra_data"]["id"]: t["extra_data"] for t in doc["tests"]}
    task3 = {i: r["outcome"] for i, r in rows.items() if i.count(".") == 2 and i[:5] == "task3"}
    assert len(task3) == 7 and set(task3.values()) == {"passed"}, task3
    for check_id, found in FOUND[name].items():
        assert rows[check_id]["details"]["found"] == found
