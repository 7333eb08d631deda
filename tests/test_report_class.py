"""Tests of the class report (grader.report.class_report): tables, CSV, problems, HTML."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from grader.report.class_data import load_class
from grader.report.class_model import build_class_view, similarity_pairs
from grader.report.class_report import render_class_report
from grader.report.render import render_template
from grader.results import SCHEMA, ResultsError
from tests.browser import assert_self_contained

CLASS = Path(__file__).parent / "data" / "class"
STUDENTS = ("s001", "s002", "s003")
_FAMILY, _, _VERSION = SCHEMA.rpartition("/")
NEWER = f"{_FAMILY}/{int(_VERSION) + 1}"


def _doc(student: str = "s001") -> dict[str, Any]:
    return json.loads((CLASS / student / "results.json").read_text(encoding="utf-8"))


def _put(root: Path, folder: str, content: str | bytes | dict[str, Any]) -> None:
    (root / folder).mkdir(parents=True)
    path = root / folder / "results.json"
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _broken_root(tmp_path: Path) -> Path:
    """The three fixture students plus one folder for each way a results.json can be bad."""
    root = tmp_path / "results"
    shutil.copytree(CLASS, root)
    newer = _doc()
    newer["extra_data"]["schema"] = NEWER
    no_tests = _doc()
    del no_tests["tests"]
    odd_outcome = _doc()
    odd_outcome["tests"][0]["extra_data"]["outcome"] = "exploded"
    bad_submission = _doc()
    bad_submission["extra_data"]["submission"] = "s009"
    _put(root, "b_truncated", '{"score": ')
    _put(root, "b_newer", newer)
    _put(root, "b_no_tests", no_tests)
    _put(root, "b_odd_outcome", odd_outcome)
    _put(root, "b_bad_submission", bad_submission)
    (root / "b_missing").mkdir()
    (root / "b_folder" / "results.json").mkdir(parents=True)
    return root


# A part of each reason (the rest names the detail, e.g. where the JSON breaks).
EXPECTED_PROBLEMS = {
    "b_bad_submission/results.json": "malformed",
    "b_folder/results.json": "cannot be read",
    "b_missing/results.json": "not found",
    "b_newer/results.json": NEWER,
    "b_no_tests/results.json": "malformed, field 'tests' missing",
    "b_odd_outcome/results.json": "unknown outcome 'exploded'",
    "b_truncated/results.json": "not valid UTF-8 JSON",
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The class report (English) of a root with three good folders and seven bad ones."""
    root = _broken_root(tmp_path_factory.mktemp("broken"))
    return render_class_report(root, root / "_class", "en")


def test_bad_results_are_listed_with_why_and_do_not_stop_the_report(broken):
    data = load_class(broken["md"].parent.parent, skip=[broken["md"].parent])
    reasons = {p.path: p.reason for p in data.problems}
    assert sorted(reasons) == sorted(EXPECTED_PROBLEMS)
    for path, part in EXPECTED_PROBLEMS.items():
        assert part in reasons[path], (path, reasons[path])
        # The absolute path is left out: the report reads the same wherever it ran.
        assert str(broken["md"].parent.parent) not in reasons[path]
    assert list(data.students.index) == list(STUDENTS)
    md = broken["md"].read_text(encoding="utf-8")
    assert "## Results that could not be read" in md
    assert re.search(rf"^\| `b_newer/results\.json` \| .*{NEWER}.* \|$", md, re.M)
    assert "- **Unreadable results.json files**: 7" in md


def test_output_folder_inside_the_root_is_not_taken_for_a_student(broken):
    md = broken["md"].read_text(encoding="utf-8")
    assert "_class" not in md


def test_the_root_itself_can_be_the_output_folder(tmp_path):
    root = tmp_path / "results"
    shutil.copytree(CLASS, root)
    (root / "figures").mkdir()  # as left by an earlier report written there
    paths = render_class_report(root, root, "en")
    assert "- **Unreadable results.json files**: 0" in paths["md"].read_text(encoding="utf-8")
    assert [row["student_id"] for row in _csv_rows(paths["csv"])] == list(STUDENTS)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_grades_csv_has_scores_outcomes_and_a_row_for_each_problem(broken):
    rows = {row["student_id"]: row for row in _csv_rows(broken["csv"])}
    assert list(rows) == sorted([*STUDENTS, *(p.split("/")[0] for p in EXPECTED_PROBLEMS)])
    assert list(next(iter(rows.values())))[:7] == [
        "student_id",
        "total",
        "max",
        "task1",
        "task2",
        "task3",
        "task4",
    ]
    s002 = rows["s002"]
    assert (s002["total"], s002["max"], s002["task1"], s002["task3"]) == ("9", "16", "2", "2")
    assert s002["task1.output_format"] == "failed" and s002["task3.learning"] == "failed"
    assert rows["s003"]["task2.cross_entropy"] == "timeout"
    assert rows["s003"]["task1.determinism"] == "error"
    assert rows["s001"]["problem"] == ""
    assert rows["b_missing"]["total"] == "" and "not found" in rows["b_missing"]["problem"]


def test_pass_rates_put_what_most_students_miss_first():
    counts = load_class(CLASS).outcome_counts()
    assert list(counts["pass_rate"]) == sorted(counts["pass_rate"])
    # Ties keep report order: task3.learning before task4.accuracy.
    assert list(counts.index[:2]) == ["task3.learning", "task4.accuracy"]
    assert counts.loc["task1.index_range", "pass_rate"] == 1.0
    assert counts.loc["task2.cross_entropy", ["passed", "timeout", "n"]].tolist() == [2, 1, 3]


def test_status_counts_checks_and_students():
    status = load_class(CLASS).status_counts()
    assert status.loc["timeout"].tolist() == [1, 1]
    assert status.loc["error"].tolist() == [1, 1]
    assert status.loc["not_attempted"].tolist() == [6, 1]
    assert status["checks"].sum() == 3 * 10


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture class in Japanese, without similarity pairs."""
    return render_class_report(CLASS, tmp_path_factory.mktemp("plain"))


def _markdown(similarity: list[dict[str, Any]] | None, lang: str = "en") -> str:
    """class_report.md of the fixture class without drawing its figures (faster)."""
    view = build_class_view(load_class(CLASS), [], lang, similarity, "grades.csv")
    return render_template("class", "md", view, lang)


def test_students_by_tasks_table_in_both_languages(plain):
    ja = plain["md"].read_text(encoding="utf-8")
    en = _markdown(None)
    assert "| 学籍番号 | 課題 1 (/ 3) | 課題 2 (/ 3) | 課題 3 (/ 4) | 課題 4 (/ 6) | 合計点 |" in ja
    assert "| s003 | 2 | 0 | 0 | 0 | 2 / 16 |" in ja
    assert "| Student ID | Task 1 (/ 3) |" in en and "クラス" not in en


def test_no_similarity_list_means_no_similarity_section(plain):
    assert "類似" not in plain["md"].read_text(encoding="utf-8")
    assert "類似" not in plain["html"].read_text(encoding="utf-8")


def test_similarity_section_lists_pairs_highest_first():
    pairs = [{"a": "s001", "b": "s003", "score": 0.4}, {"a": "s001", "b": "s002", "score": 0.9}]
    md = _markdown(pairs)
    assert md.index("| 1 | s001 | s002 | 0.90 |") < md.index("| 2 | s001 | s003 | 0.40 |")


def test_empty_similarity_list_says_no_pair_was_flagged():
    md = _markdown([])
    assert "## Similar pairs" in md and "No pair reached the similarity threshold." in md


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"a": "x", "score": 0.5}, r"similarity\[0\]: missing b"),
        ({"a": "x", "b": "y", "score": 1.5}, r"similarity\[0\]: score must be .* got 1\.5"),
        ({"a": "x", "b": "y", "score": "high"}, "got 'high'"),
    ],
)
def test_malformed_similarity_pairs_are_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        similarity_pairs([entry])


def test_similarity_pairs_keep_optional_fields_and_ignore_others():
    (pair,) = similarity_pairs([{"a": 1, "b": 2, "score": 1, "method": "text", "extra": [1]}])
    assert (pair.a, pair.b, pair.score, pair.method, pair.detail) == ("1", "2", 1.0, "text", "")


def test_class_html_is_self_contained_and_accessible(plain):
    html = plain["html"].read_text(encoding="utf-8")
    assert_self_contained(html, images=2)
    assert '<html lang="ja">' in html
    assert html.count('<th scope="row">') >= 3 + 10  # students and checks head their rows
    assert "@page { size: A4" in html


def test_rerendering_gives_identical_bytes(plain, tmp_path):
    first, second = plain, render_class_report(CLASS, tmp_path)
    for kind in ("md", "html", "csv"):
        assert first[kind].read_bytes() == second[kind].read_bytes()
    for png in sorted(first["figures"].iterdir()):
        assert (second["figures"] / png.name).read_bytes() == png.read_bytes()


def test_a_root_with_no_readable_results_still_gives_a_report(tmp_path):
    root = tmp_path / "results"
    _put(root, "only", "not json")
    paths = render_class_report(root, tmp_path / "out", "en")
    md = paths["md"].read_text(encoding="utf-8")
    assert "No results.json could be read." in md and "`only/results.json`" in md
    assert list(paths["figures"].iterdir()) == []
    assert "<img" not in paths["html"].read_text(encoding="utf-8")


def test_a_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="not a folder of graded submissions"):
        render_class_report(tmp_path / "nowhere", tmp_path / "out")


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ValueError, match="fr"):
        render_class_report(CLASS, tmp_path, "fr")
