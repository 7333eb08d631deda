"""The parts of the course in the reports: subtotals at the top of both reports, optional
tasks not attempted kept neutral, checks left out of the maximum said, and Japanese
reports without English sentences."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from grader.i18n import catalogue
from grader.report import render_reports
from grader.report.model import build_view
from grader.results import CheckResult, GradeRun, Message, read_results, to_json_dict
from grader.scoring import UNCALLABLE, Counting

DATA = Path(__file__).parent / "data"


def _run() -> GradeRun:
    return GradeRun(grader_version="0.1.0", submission={"student_id": "s1", "path": "s1"},
                    plan={"name": "public", "visibility": "public"},
                    data={"source": "embedded", "kind": "embedded", "n_train": 4000,
                          "n_test": 1000},
                    sandbox={"kind": "bwrap", "isolation": "full"}, seeds={},
                    started_at="2026-04-01T00:00:00+09:00", duration_s=1.0, lang="ja")


def _check(check_id: str, outcome: str, score: float, max_score: float, key: str,
           excluded: str = "", **params: Any) -> CheckResult:
    return CheckResult(check_id, check_id.split(".")[0], outcome, score, max_score,
                       Message(key, params), excluded=excluded, reproduce="python task1.py")


PASSED = {"runs": 3}


def _functional(task3_handed_in: bool = True, uncallable: str = UNCALLABLE) -> list[CheckResult]:
    """A correct plain-function task 1–4 submission; A4 tried and wrong, A1 left out."""
    task3 = (_check("task3.learning", "passed", 2, 2, "task3.learns", first=2.3, last=0.3,
                    drop=87, need=20) if task3_handed_in else
             _check("task3.learning", "not_attempted", 0, 2, "check.not_attempted",
                    program="task3.py"))
    return [
        _check("task1.output_format", "passed", 1, 1, "classify.format_ok", **PASSED),
        task3,
        _check("task3.affine.forward", "not_attempted", 0, 0 if uncallable else 1,
               "api.not_attempted", excluded=uncallable, kind="affine",
               reason="NotAttempted: no adapter entry and no class named Affine"),
        _check("task4.accuracy", "unverified", 4, 4, "classify.format_ok", **PASSED),
        _check("report.rubric", "not_attempted", 0, 4, "rubric.no_report"),
        _check("A1.relu.forward", "not_attempted", 0, 1, "api.not_attempted", kind="relu",
               reason="NotAttempted: no class named Relu"),
        _check("A4.adam.update", "failed", 0, 1, "api.mismatch", what="W", error="1e-1",
               rtol="1e-6", index="(0, 0)", got="1", expected="2"),
    ]


def _doc(checks: list[CheckResult], counting: Counting | None = None) -> dict[str, Any]:
    return to_json_dict(_run(), checks, render=lambda m: m.key, counting=counting)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """report.md and report.html of the functional submission in both languages."""
    out = {}
    for lang in ("ja", "en"):
        paths = render_reports(_doc(_functional()), tmp_path_factory.mktemp(lang), lang)
        for kind in ("md", "html"):
            out[f"{kind}.{lang}"] = paths[kind].read_text(encoding="utf-8")
    return out


def _summary(md: str) -> str:
    return md[md.index("## ") : md.index("## ", md.index("## ") + 3)]


def test_the_summary_shows_each_part_and_what_the_total_counts(reports) -> None:
    ja = _summary(reports["md.ja"])
    assert "**合計点: 7 / 7 点**" in ja
    assert "合計点は 必修課題 (課題 1–4) の得点です。" in ja
    # 3 checks count (task3.affine.forward left out); task4.accuracy is unverified.
    assert "| 必修課題 (課題 1–4) | 7 / 7 | 含む | 2 / 3 |" in ja
    assert "| レポート | — 未実施 | 含まない (別に集計) | 0 / 1 |" in ja
    assert "| 発展課題 A1 | — 未実施 | 含まない (別に集計) | 0 / 1 |" in ja
    assert "| 発展課題 A4 | 0 / 1 | 含まない (別に集計) | 0 / 1 |" in ja
    en = _summary(reports["md.en"])
    assert "| Required tasks (1–4) | 7 / 7 | counted | 2 / 3 |" in en
    html = reports["html.ja"]
    assert html.index('class="parts"') < html.index('id="fix-first"')
    assert "<th scope=\"row\">発展課題 A1</th>" in html


def test_a_check_left_out_of_the_maximum_is_said_with_where_to_look(reports) -> None:
    ja = _summary(reports["md.ja"])
    assert re.search(r"^> 次の 1 件のチェックは.*task3\.affine\.forward.*docs/api\.ja\.md", ja,
                     re.M)
    assert "| `task3.affine.forward` | — 未実施 | 対象外 |" in reports["md.ja"]
    assert "task3.affine.forward" in _summary(reports["md.en"])
    assert "docs/api.en.md" in _summary(reports["md.en"])


def test_unverified_checks_are_listed_for_the_instructor(reports) -> None:
    assert re.search(r"^> 採点システムが確かめられなかったチェックが 1 件.*task4\.accuracy",
                     _summary(reports["md.ja"]), re.M)


def _fix_first(md: str) -> str:
    start = md.index("## まず直すところ")
    return md[start : md.index("\n## ", start + 1)]


def test_an_optional_task_not_attempted_is_never_in_the_fix_first_box(reports) -> None:
    box = _fix_first(reports["md.ja"])
    # Only the optional task that was tried and is wrong.
    assert re.findall(r"^\d+\. \*\*(.+?)\*\*: `(.+?)`", box, re.M) == [
        ("❌ 不合格", "A4.adam.update")]
    for absent in ("A1", "report.rubric", "未実施", "課題 3", "task3"):
        assert absent not in box
    # The verdict counts the checks that judge the work: 3 counted (the unverified one
    # scored as passed), 1 tried and wrong.
    assert "4 件中 3 件のチェックに合格しました" in reports["md.ja"]


def test_no_fix_first_box_when_the_required_part_passed_and_nothing_optional_was_tried(
        tmp_path) -> None:
    checks = [c for c in _functional() if not c.id.startswith("A4")]
    md = render_reports(_doc(checks), tmp_path)["md"].read_text(encoding="utf-8")
    assert "まず直すところ" not in md and "公開チェックに合格しました (3 / 3 件)" in md
    assert "task4.accuracy" in _summary(md)  # unverified: listed, though scored as passed


def test_a_program_not_handed_in_is_named_as_missing(tmp_path) -> None:
    view = build_view(_doc(_functional(task3_handed_in=False)), [], "ja")
    assert view.missing is not None
    assert view.missing.value == ("提出されていないプログラム: task3.py。"
                                  "提出し忘れがないか確認してください。")


def test_when_uncallable_checks_cost_the_box_says_what_was_looked_for_not_missing() -> None:
    checks = _functional(uncallable="")
    view = build_view(_doc(checks, Counting(uncallable_costs=True)), [], "ja")
    assert view.missing is not None
    note = view.missing.value
    assert "task3.affine.forward" in note and "提出されていない" not in note
    assert "docs/api.ja.md" in note


def test_the_plan_may_count_an_optional_part_then_its_checks_judge_the_work() -> None:
    doc = _doc(_functional(), Counting(counted=("required", "A1")))
    view = build_view(doc, [], "ja")
    assert view.total == "7 / 8 点"
    assert view.total_note.startswith("合計点は 必修課題 (課題 1–4)、発展課題 A1 の得点です。")
    assert view.verdict.startswith("5 件中 3 件")
    # A counted part not attempted is named, as what could not be run.
    assert view.missing is not None and "A1.relu.forward" in view.missing.value


# --- No English in Japanese reports -------------------------------------------------------

# Proper names and phrases of the field that Japanese text uses as they are.
ALLOWED_PHRASES = ("Deep Learning", "Batch Normalization", "Inception Score", "pip install")
# Words that show English prose or debug text when they stand outside code.
ENGLISH = re.compile(r"\b(the|and|of|not|no|to|is|by|with|for|from|exit|code|timeout|timed|"
                     r"killed|expected|found|entry|named|none|null|true|false)\b", re.I)
PHRASE = re.compile(r"[A-Za-z]+(?:[ \t]+[A-Za-z]+)+")


def english_in(text: str) -> list[str]:
    """English phrases and function words in ``text`` outside code and placeholders."""
    text = re.sub(r"(`{3,})[^\n]*\n.*?\n\1", "", text, flags=re.S)  # fenced blocks
    text = re.sub(r"<pre>.*?</pre>|<code>.*?</code>|<style>.*?</style>|<[^>]+>", " ", text,
                  flags=re.S)
    text = re.sub(r"`[^`\n]*`|\{[^}]*\}|\]\([^)]*\)|data:[^\"')\s]+", " ", text)
    # Identifiers and file names (np.savez, os._exit, docs/api.ja.md) are code, not prose.
    text = re.sub(r"[A-Za-z0-9_]*[._/][A-Za-z0-9_./]*", " ", text)
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    return PHRASE.findall(text) + ENGLISH.findall(text)


def test_every_japanese_message_is_japanese() -> None:
    leaks = {key: english_in(texts["ja"]) for key, texts in catalogue().items()}
    assert {key: words for key, words in leaks.items() if words} == {}


def test_the_japanese_reports_show_no_english(reports) -> None:
    assert english_in(reports["md.ja"]) == []
    assert english_in(reports["html.ja"]) == []


def test_the_japanese_report_of_real_results_shows_no_english(tmp_path) -> None:
    # The fixture's messages hold what a run recorded: the worker's English reason too.
    paths = render_reports(read_results(DATA / "results.json"), tmp_path, "ja")
    assert english_in(paths["md"].read_text(encoding="utf-8")) == []
    assert english_in(paths["html"].read_text(encoding="utf-8")) == []


def test_the_checker_of_english_would_see_a_leak() -> None:
    assert english_in("入力 0: exit code 1") == ["exit code", "exit", "code"]
    assert english_in("relu の実装が見つかりません: NotAttempted: no class named Relu") != []
    assert english_in("`exit code 1` と ```text\nno entry\n```") == []
