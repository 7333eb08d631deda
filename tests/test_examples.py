"""Grading the shipped submissions: the reference passes, each known-bad one fails one check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.grade import grade
from tests.conftest import API_PLAN, EXAMPLES, FAST_PLAN, REFERENCE

# folder → the one check it must fail, and how
EXPECTED = {
    "nondeterministic_task1": ("task1.determinism", "failed"),
    "wrong_format_task1": ("task1.output_format", "failed"),
    "hanging_task2": ("task2.cross_entropy", "timeout"),
    "not_learning_task3": ("task3.learning", "failed"),
    "ignores_input_task4": ("task4.accuracy", "failed"),
}


def outcomes(doc: dict) -> dict[str, str]:
    return {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}


def test_every_example_folder_is_covered() -> None:
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    # framework_bad is graded by the framework plan (tests/test_torch_*.py).
    assert folders == {*EXPECTED, "dlfs_style", "framework_bad"}


def test_dlfs_style_layers_are_recognised_without_an_adapter(tmp_path: Path) -> None:
    """Every API check passes on DLfS-style classes; AdaDelta and weight decay (in the
    book's network class, not a unit of its own) are absent."""
    doc = grade(EXAMPLES / "dlfs_style", tmp_path, plan_path=API_PLAN)
    got = outcomes(doc)
    assert len(got) == 26
    assert {c: o for c, o in got.items() if o != "passed"} == {
        "A4.adadelta.update": "not_attempted", "A2.weight_decay.gradient": "not_attempted"}


@pytest.fixture(scope="module")
def reference_doc(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("reference")
    return grade(REFERENCE, out, plan_path=FAST_PLAN)


def test_reference_passes_every_api_check(tmp_path: Path) -> None:
    doc = grade(REFERENCE, tmp_path, plan_path=API_PLAN)
    assert set(outcomes(doc).values()) == {"passed"}, outcomes(doc)


def test_reference_passes_every_check(reference_doc: dict) -> None:
    assert set(outcomes(reference_doc).values()) == {"passed"}, outcomes(reference_doc)
    assert reference_doc["score"] == reference_doc["max_score"] == 16


def test_reference_results_are_recorded(reference_doc: dict) -> None:
    checks = {t["name"]: t["extra_data"] for t in reference_doc["tests"]}
    losses = checks["task3.learning"]["details"]["losses"]
    assert len(losses) == 30 and losses[-1] < losses[0]
    acc = checks["task4.accuracy"]["details"]
    # The sequential test stops at a look once it has decided: at most the plan's 40 images.
    n = acc["n"]
    assert n == acc["looks"][-1]["n"] <= acc["max_n"] == 40
    assert len(acc["labels"]) == len(acc["predictions"]) == len(acc["indices"]) == n
    assert acc["threshold"] <= acc["lower_bound"] <= acc["accuracy"] <= acc["upper_bound"]
    assert acc["correct"] >= acc["looks"][-1]["pass_at"]
    assert reference_doc["extra_data"]["seeds"] == {"handout": 7, "sample": 11}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_known_bad_example_fails_exactly_its_check(name: str, tmp_path: Path) -> None:
    doc = grade(EXAMPLES / name, tmp_path, plan_path=FAST_PLAN)
    bad_check, bad_outcome = EXPECTED[name]
    present = {p.stem for p in (EXAMPLES / name).glob("task*.py")}
    expected = {}
    for check_id in outcomes(doc):
        task = check_id.split(".")[0]
        if check_id == bad_check:
            expected[check_id] = bad_outcome
        else:
            expected[check_id] = "passed" if task in present else "not_attempted"
    assert outcomes(doc) == expected
    failing = next(t for t in doc["tests"] if t["name"] == bad_check)
    assert failing["score"] == 0 and failing["status"] == "failed"
    assert failing["output"], "a failed check must say why"
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert outcomes(saved) == expected
