"""The score model (grader/scoring.py) as results.json records it: parts of the course,
a subtotal per part, a headline that counts what the plan says, and still Gradescope JSON."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from grader.checks.base import Check, Verdict
from grader.grade import run_check
from grader.results import (
    CheckResult,
    GradeRun,
    Message,
    ResultsError,
    parts_from_json,
    read_results,
    to_json_dict,
    write_json_atomic,
)
from grader.scoring import UNCALLABLE, Counting, part_of, part_sort_key

# Gradescope's results.json (https://gradescope-autograders.readthedocs.io, "Autograder
# Specifications"): only the fields it defines, with their types and allowed values.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
GRADESCOPE = {
    "type": "object",
    "required": ["tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["score", "max_score", "name"],
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def _run() -> GradeRun:
    return GradeRun(grader_version="0.1.0", submission={"student_id": "s1"},
                    plan={"name": "public", "visibility": "public"}, data={"source": "x"},
                    sandbox={"kind": "bwrap", "isolation": "full"}, seeds={},
                    started_at="2026-04-01T00:00:00+09:00", duration_s=1.0, lang="ja")


def _check(check_id: str, outcome: str, score: float, max_score: float,
           excluded: str = "") -> CheckResult:
    return CheckResult(check_id, check_id.split(".")[0], outcome, score, max_score,
                       Message("m"), excluded=excluded)


def _doc(checks: list[CheckResult], counting: Counting | None = None) -> dict[str, Any]:
    return to_json_dict(_run(), checks, render=lambda m: m.key, counting=counting)


def _parts(doc: dict[str, Any]) -> dict[str, Any]:
    return {p.id: p for p in parts_from_json(doc)}


# A correct task 1–4 submission in plain functions: every program check passes, the
# layer checks find no class to call (left out), the optional tasks are not attempted.
FUNCTIONAL = [
    _check("task1.output_format", "passed", 1, 1),
    _check("task2.cross_entropy", "passed", 3, 3),
    _check("task3.learning", "passed", 2, 2),
    _check("task3.affine.forward", "not_attempted", 0, 0, excluded=UNCALLABLE),
    _check("task4.accuracy", "passed", 4, 4),
    _check("code.banned_imports", "passed", 1, 1),
    _check("report.rubric", "not_attempted", 0, 4),
    _check("A1.relu.forward", "not_attempted", 0, 1),
    _check("A4.adam.update", "failed", 0, 1),
]


@pytest.mark.parametrize(
    ("check_id", "part"),
    [("task1.output_format", "required"), ("task3.affine.forward", "required"),
     ("code.banned_imports", "required"), ("report.rubric", "report"),
     ("A2.dropout.share", "A2"), ("B3.fid", "B3"), ("bonus.style", "bonus"),
     ("task12.x", "task12")],
)
def test_the_part_comes_from_the_id_prefix(check_id: str, part: str) -> None:
    assert part_of(check_id) == part


def test_parts_are_ordered_as_the_course() -> None:
    parts = ["B1", "bonus", "A10", "A2", "report", "required", "A1"]
    assert sorted(parts, key=part_sort_key) == [
        "required", "report", "A1", "A2", "A10", "B1", "bonus"]


def test_by_default_the_headline_is_the_required_part_and_the_others_are_apart() -> None:
    doc = _doc(FUNCTIONAL)
    parts = _parts(doc)
    assert (doc["score"], doc["max_score"]) == (11, 11)
    assert list(parts) == ["required", "report", "A1", "A4"]
    assert parts["required"].counted and not parts["A4"].counted
    assert (parts["A4"].score, parts["A4"].max_score, parts["A4"].attempted) == (0, 1, True)
    assert not parts["A1"].attempted and not parts["report"].attempted
    assert parts["required"].excluded == ["task3.affine.forward"]
    assert doc["extra_data"]["scoring"] == {"counted": None, "points": {},
                                            "uncallable_costs": False}


def test_a_plan_without_required_checks_counts_every_part() -> None:
    doc = _doc([_check("B1.accuracy", "passed", 4, 4), _check("B2.model_loads", "failed", 0, 2)])
    assert (doc["score"], doc["max_score"]) == (4, 6)


def test_the_plan_may_count_optional_parts_and_scale_them() -> None:
    counting = Counting(counted=("required", "report", "A4"), points={"required": 60, "A4": 10})
    doc = _doc(FUNCTIONAL, counting)
    parts = _parts(doc)
    # 11 of 11 raw required points scaled to 60; A4 0 of 1 to 0 of 10; report 0 of 4.
    assert (parts["required"].score, parts["required"].max_score) == (60, 60)
    assert (parts["required"].raw_score, parts["required"].raw_max) == (11, 11)
    assert (parts["A4"].score, parts["A4"].max_score) == (0, 10)
    assert (doc["score"], doc["max_score"]) == (60, 74)
    everything = _doc(FUNCTIONAL, Counting(counted=("*",)))
    assert (everything["score"], everything["max_score"]) == (11, 17)


def test_results_json_is_gradescope_json_whose_score_is_the_headline(tmp_path) -> None:
    doc = _doc(FUNCTIONAL)
    jsonschema.validate(doc, GRADESCOPE)
    assert doc["score"] == sum(p.score for p in parts_from_json(doc) if p.counted)
    for test in doc["tests"]:
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0
        assert test["tags"][0] == test["extra_data"]["part"]
    excluded = next(t for t in doc["tests"] if t["name"] == "task3.affine.forward")
    assert (excluded["score"], excluded["max_score"]) == (0, 0)
    assert excluded["extra_data"]["excluded"] == UNCALLABLE
    write_json_atomic(tmp_path / "results.json", doc)
    assert parts_from_json(read_results(tmp_path / "results.json")) == parts_from_json(doc)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda p: p.pop("counted"), r"field 'extra_data\.parts\[0\]\.counted' missing"),
        (lambda p: p.update(counted="yes"), "counted is 'yes', expected true or false"),
        (lambda p: p.update(score="8"), "score is '8', expected a number"),
        (lambda p: p.update(excluded=[1]), "excluded must list check ids"),
        (lambda p: p.update(bonus=1), "unknown fields"),
    ],
)
def test_a_malformed_part_is_a_results_error(tmp_path, mutate, fragment) -> None:
    doc = _doc(FUNCTIONAL)
    mutate(doc["extra_data"]["parts"][0])
    write_json_atomic(tmp_path / "results.json", doc)
    with pytest.raises(ResultsError, match=fragment):
        read_results(tmp_path / "results.json")


# --- run_check: which checks leave the maximum -------------------------------------------


def _ctx(counting: Counting, handed_in: bool = True) -> SimpleNamespace:
    """What run_check reads of a grading context: the programs handed in and the plan."""
    return SimpleNamespace(submission=SimpleNamespace(program=lambda name: object() if
                                                      handed_in else None),
                           plan=SimpleNamespace(counting=counting))


def _run_one(check_id: str, program: str | None, verdict: Verdict,
             counting: Counting | None = None, handed_in: bool = True) -> CheckResult:
    chk = Check(check_id, program, lambda ctx, settings: verdict, {}, "python -m grader grade .")
    settings = {"weight": 2.0, "visibility": "visible"}
    return run_check(_ctx(counting or Counting(), handed_in), chk, settings, {})


NOT_FOUND = Verdict("not_attempted", Message("api.not_attempted", {"kind": "affine"}))


def test_a_required_check_that_could_not_call_the_code_leaves_the_maximum() -> None:
    result = _run_one("task3.affine.forward", None, NOT_FOUND)
    assert result.excluded == UNCALLABLE and (result.score, result.max_score) == (0, 0)


def test_a_required_check_that_ran_and_failed_costs_its_points() -> None:
    failed = Verdict("failed", Message("api.mismatch"))
    result = _run_one("task3.affine.forward", None, failed)
    assert not result.excluded and (result.score, result.max_score) == (0, 2)


def test_the_plan_may_make_uncallable_checks_cost() -> None:
    result = _run_one("task3.affine.forward", None, NOT_FOUND, Counting(uncallable_costs=True))
    assert not result.excluded and result.max_score == 2


def test_a_program_left_out_costs_and_an_optional_task_left_out_stays_in_its_part() -> None:
    missing = _run_one("task3.learning", "task3", Verdict("passed", Message("x")),
                       handed_in=False)
    assert missing.outcome == "not_attempted" and not missing.excluded
    assert missing.max_score == 2
    optional = _run_one("A1.relu.forward", None, NOT_FOUND)
    assert not optional.excluded and optional.max_score == 2


def test_unverified_scores_like_passed() -> None:
    result = _run_one("task4.consistency", "task4",
                      Verdict("unverified", Message("x")))
    assert (result.score, result.max_score) == (2, 2)
    doc = _doc([result])
    assert (doc["score"], doc["max_score"]) == (2, 2)
    assert doc["tests"][0]["status"] == "passed"  # as Gradescope should show it
