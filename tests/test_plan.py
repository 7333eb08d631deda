"""Plans: the shipped public plan loads, and every mistake in a plan file is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks import REGISTRY
from grader.grade import known_checks
from grader.plan import PlanError, load, public_plan_path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text("[plan]\nname = 'x'\n[seeds]\nhandout = 1\n" + text, encoding="utf-8")
    return path


def test_public_plan_covers_every_numpy_check() -> None:
    """Every check but the framework tasks' (B1–B3 have a plan of their own)."""
    plan = load(None, known_checks)
    assert plan.visibility == "public" and plan.path == str(public_plan_path())
    # The grader's own checks: other tests load plans that register checks of their own.
    numpy_checks = {c for c in known_checks() if not c.startswith(("B1.", "B2.", "B3."))
                    and REGISTRY[c].fn.__module__.startswith("grader.checks.")}
    assert set(plan.checks) == numpy_checks
    assert plan.checks["task4.accuracy"]["threshold"] == 0.8
    assert plan.limits_for("task3").wall_s == 600 and plan.limits_for("task1").wall_s == 30
    assert plan.limits_for("task1").memory_bytes == 4096 << 20


def test_defaults_fill_settings_the_plan_leaves_out(tmp_path: Path) -> None:
    plan = load(write(tmp_path, '[checks."task4.accuracy"]\nsample = 10\n'), known_checks)
    assert plan.checks["task4.accuracy"] == {"weight": 1.0, "visibility": "visible",
                                             "sample": 10, "threshold": 0.8,
                                             "confidence": 0.95, "round": 10}
    assert list(plan.checks) == ["task4.accuracy"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[checks."task9.magic"]\n', "unknown check 'task9.magic'"),
        ('[checks."task4.accuracy"]\nsampel = 3\n', "has no setting 'sampel'"),
        ('[checks."task4.accuracy"]\nsample = "many"\n', "should be a int"),
        ('[checks."task1.determinism"]\nweight = -1\n', "must not be negative"),
        ("[checks]\n[limits]\nwall = 3\n", "[limits] has no setting 'wall'"),
        ("[checks]\n[limits.task3]\nwall_s = 0\n", "[limits.task3] wall_s must be a positive"),
        ("[checks]\nx = = 1\n", "not a valid UTF-8 TOML"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(PlanError) as err:
        load(write(tmp_path, text), known_checks)
    assert fragment in str(err.value) and str(tmp_path / "plan.toml") in str(err.value)


def test_missing_file_and_bad_visibility(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="plan file not found"):
        load(tmp_path / "nope.toml", known_checks)
    path = tmp_path / "v.toml"
    path.write_text("[plan]\nvisibility = 'secret'\n[seeds]\n[checks]\n")
    with pytest.raises(PlanError, match="visibility = 'secret'"):
        load(path, known_checks)


def test_hidden_plan_adds_a_check_module_and_sets_visibility(tmp_path: Path) -> None:
    (tmp_path / "extra.py").write_text(
        "from grader.checks.base import check, passed\n"
        "@check('task1.extra_probe', program='task1', factor=2)\n"
        "def probe(ctx, settings):\n"
        "    return passed('check.not_attempted', program='x')\n")
    path = tmp_path / "hidden.toml"
    path.write_text("[plan]\nvisibility = 'hidden'\ncheck_modules = ['extra.py']\n"
                    "[seeds]\n[checks.'task1.extra_probe']\nfactor = 3\n"
                    "[checks.'task1.determinism']\nvisibility = 'visible'\n")
    plan = load(path, known_checks)
    assert plan.checks["task1.extra_probe"]["factor"] == 3
    assert plan.checks["task1.extra_probe"]["visibility"] == "after_published"
    assert plan.checks["task1.determinism"]["visibility"] == "visible"


def test_broken_check_module_is_a_plan_error(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("raise RuntimeError('nope')\n")
    path = tmp_path / "p.toml"
    path.write_text("[plan]\ncheck_modules = ['bad.py', 'missing.py']\n[seeds]\n[checks]\n")
    with pytest.raises(PlanError, match="failed to load: RuntimeError: nope"):
        load(path, known_checks)


# --- [parts]: how the parts of the course add up (grader/scoring.py) ----------------------

PARTS_CHECKS = ('[checks."task1.determinism"]\n[checks."A1.relu.forward"]\n'
                '[checks."report.rubric"]\n')


def test_public_plan_counts_the_required_part_and_lets_uncallable_checks_leave() -> None:
    counting = load(None, known_checks).counting
    assert counting.counted == ("required",) and not counting.uncallable_costs
    assert counting.counts("required", ["required", "A1"])
    assert not counting.counts("A1", ["required", "A1"])
    assert not counting.counts("report", ["required", "report"])


def test_parts_table_sets_counted_parts_points_and_uncallable_costs(tmp_path: Path) -> None:
    text = ('[parts]\ncounted = ["required", "report"]\nuncallable_costs = true\n'
            "[parts.report]\npoints = 20\n[parts.A1]\npoints = 5\n" + PARTS_CHECKS)
    counting = load(write(tmp_path, text), known_checks).counting
    assert counting.counted == ("required", "report") and counting.uncallable_costs
    assert counting.points == {"report": 20.0, "A1": 5.0}
    assert counting.counts("report", []) and not counting.counts("A1", [])


def test_parts_may_count_everything(tmp_path: Path) -> None:
    counting = load(write(tmp_path, '[parts]\ncounted = ["*"]\n' + PARTS_CHECKS),
                    known_checks).counting
    assert all(counting.counts(p, []) for p in ("required", "report", "A1", "B3"))


def test_without_parts_table_a_plan_without_required_checks_counts_all(tmp_path: Path) -> None:
    counting = load(write(tmp_path, '[checks."A1.relu.forward"]\n'), known_checks).counting
    assert counting.counted is None
    assert counting.counts("A1", ["A1"]) and not counting.counts("A1", ["required", "A1"])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[parts]\ncounted = "required"\n', "counted must be a list of parts"),
        ('[parts]\ncounted = ["requried"]\n', "unknown part 'requried'"),
        ("[parts]\nuncallable_costs = 1\n", "uncallable_costs must be true or false"),
        ("[parts]\ncount = 3\n", "[parts] has no setting 'count'"),
        ("[parts.A9]\npoints = 3\n", "[parts.A9]: unknown part 'A9'"),
        ("[parts.A1]\npoints = 0\n", "[parts.A1] points must be a positive number"),
        ("[parts.A1]\npoints = true\n", "[parts.A1] points must be a positive number"),
        ("[parts.A1]\nweight = 2\n", "the one setting of a part is points"),
    ],
)
def test_mistakes_in_parts_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(PlanError) as err:
        load(write(tmp_path, text + PARTS_CHECKS), known_checks)
    assert fragment in str(err.value) and str(tmp_path / "plan.toml") in str(err.value)


def test_a_part_of_an_instructors_own_checks_may_be_named(tmp_path: Path) -> None:
    (tmp_path / "bonus.py").write_text(
        "from grader.checks.base import check, passed\n"
        "@check('bonus.style', program=None)\n"
        "def style(ctx, settings):\n"
        "    return passed('check.not_attempted', program='x')\n")
    path = tmp_path / "bonus.toml"
    path.write_text("[plan]\ncheck_modules = ['bonus.py']\n[seeds]\n"
                    "[parts]\ncounted = ['required', 'bonus']\n[parts.bonus]\npoints = 2\n"
                    "[checks.'bonus.style']\n[checks.'task1.determinism']\n")
    counting = load(path, known_checks).counting
    assert counting.counted == ("required", "bonus") and counting.points == {"bonus": 2.0}


def test_parts_that_is_not_a_table_is_named(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text("parts = 3\n[plan]\n[seeds]\n" + PARTS_CHECKS, encoding="utf-8")
    with pytest.raises(PlanError, match=r"plan\.toml: parts must be a table"):
        load(path, known_checks)
