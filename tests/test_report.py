"""Tests of the submission report (grader/report): Markdown, HTML, figures, terminal table."""

from __future__ import annotations

import base64
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.i18n import catalogue
from grader.report import format_score_table, render_reports
from grader.report.markdown import md_slug
from grader.report.plots import _confusion
from grader.report.terminal import display_width
from grader.results import (
    OUTCOMES,
    CheckResult,
    GradeRun,
    Message,
    read_results,
    to_json_dict,
    write_json_atomic,
)
from tests.browser import assert_self_contained

# A message key only these tests define, so a test can tell the report's own rendering
# of a message from the `output` field (rendered here as "OUTPUT-FIELD").
GREETING = "test_report.greeting"
HOSTILE = "<b>bold</b> | `tick` [link](evil.png)"


@pytest.fixture(autouse=True)
def greeting_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        catalogue(), GREETING, {"ja": "こんにちは {name} {extra}", "en": "hello {name} {extra}"}
    )


def _image(digit: int) -> str:
    img = np.zeros((28, 28), dtype=np.uint8)
    img[4:24, 10 + digit : 13 + digit] = 255
    return base64.b64encode(img.tobytes()).decode("ascii")


def _run(visibility: str = "public", isolation: str = "reduced") -> GradeRun:
    return GradeRun(
        grader_version="0.1.0",
        submission={"student_id": "1029334455", "path": "submissions/alice", "sha256": "cd" * 32},
        plan={"name": "public", "visibility": visibility},
        data={"source": "embedded"},
        sandbox={"kind": "subprocess", "isolation": isolation},
        seeds={"task4": 7},
        started_at="2025-04-01T10:00:00+09:00",
        duration_s=12.5,
        lang="ja",
    )


def _accuracy_details() -> dict[str, Any]:
    labels = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    predictions = [5, 1, 4, 1, 5, 9, None, 6, 5, 3]
    misclassified = [
        {"index": i, "label": label, "predicted": pred, "image": _image(label)}
        for i, (label, pred) in enumerate(zip(labels, predictions, strict=True))
        if label != pred
    ]
    return {
        "n": 10,
        "correct": 8,
        "accuracy": 0.8,
        "wilson_lower": 0.49,
        "threshold": 0.4,
        "confidence": 0.95,
        "labels": labels,
        "predictions": predictions,
        "misclassified": misclassified,
    }


def _check(check_id: str, outcome: str, score: float, max_score: float, **kw: Any) -> CheckResult:
    """A check record whose task is the id's prefix (``task3.learning`` → ``task3``)."""
    kw.setdefault("message", Message("m.plain"))
    return CheckResult(check_id, check_id.split(".")[0], outcome, score, max_score, **kw)


def _checks() -> list[CheckResult]:
    greeting = Message(GREETING, {"name": "Ada", "extra": HOSTILE})
    stderr = "Traceback\nZeroDivisionError: ```"
    return [
        _check("task1.cli", "passed", 10, 10, seconds=0.5, reproduce="python task1.py --passed"),
        _check(
            "task1.crash",
            "error",
            0,
            5,
            message=greeting,
            seconds=0.25,
            details={"returncode": 1, "stderr_tail": stderr},
            reproduce="echo 42 | python task1.py",
        ),
        _check(
            "task2.cross_entropy",
            "failed",
            0,
            10,
            details={"loss": 1.5, "low": 1.8, "internal_note": "kept in results.json"},
            seconds=1.0,
            reproduce="python task2.py",
        ),
        _check(
            "task3.learning",
            "passed",
            20,
            20,
            details={"losses": [2.3, 1.2, 0.8, 0.6]},
            seconds=9.0,
            reproduce="python task3.py",
        ),
        _check("task3.save", "timeout", 0, 5, details={"limit_s": 60}, seconds=60.0),
        _check("task4.accuracy", "passed", 30, 30, details=_accuracy_details(), seconds=4.0),
        _check("A1.dropout", "not_attempted", 0, 5),
    ]


def _doc(checks: list[CheckResult] | None = None, **run: str) -> dict[str, Any]:
    return to_json_dict(
        _run(**run), _checks() if checks is None else checks, render=lambda m: "OUTPUT-FIELD"
    )


def _all_passed() -> list[CheckResult]:
    return [_check("task1.cli", "passed", 10, 10, seconds=0.5)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The full doc rendered once per language (rendering is the slow part), plus warnings."""
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp.setitem(
            catalogue(), GREETING, {"ja": "こんにちは {name} {extra}", "en": "hello {name} {extra}"}
        )
        out: dict[str, Any] = {
            lang: render_reports(_doc(), tmp_path_factory.mktemp(lang), lang)
            for lang in ("ja", "en")
        }
    out["warnings"] = caught
    return out


def _md(rendered: dict[str, Any], lang: str = "ja") -> str:
    return rendered[lang]["md"].read_text(encoding="utf-8")


def _html(rendered: dict[str, Any], lang: str = "ja") -> str:
    return rendered[lang]["html"].read_text(encoding="utf-8")


def test_markdown_lists_every_check_and_links_existing_ascii_figures(rendered):
    md = _md(rendered)
    for check in _checks():
        assert f"`{check.id}`" in md
    links = re.findall(r"!\[(.*?)\]\(([^)]+)\)", md)
    targets = [target for _, target in links]
    assert sorted(targets) == sorted(
        f"figures/{name}"
        for name in (
            "learning_curve.png",
            "confusion_matrix.png",
            "misclassified.png",
            "timings.png",
        )
    )
    for alt, target in links:
        assert alt.strip()
        assert target.isascii() and not Path(target).is_absolute()
        assert (rendered["ja"]["md"].parent / target).is_file()


def test_markdown_escapes_student_text_and_keeps_tables_intact(rendered):
    md = _md(rendered)
    assert "`echo 42 \\| python task1.py`" in md
    assert "<b>" not in md and "\\<b\\>" in md
    assert "[link](evil.png)" not in md and "\\[link\\](evil.png)" in md
    # The stderr tail holds ``` so its fence must be longer.
    assert "````text\nTraceback\nZeroDivisionError: ```\n````" in md


def test_html_is_self_contained_and_accessible(rendered):
    html = _html(rendered)
    assert_self_contained(html, images=4)
    assert '<html lang="ja">' in html
    assert '<th scope="col">' in html
    assert "@page" in html and "@media print" in html


def test_html_escapes_student_text(rendered):
    html = _html(rendered)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>bold" not in html


def test_messages_are_rendered_in_the_report_language_not_from_output(rendered):
    assert "こんにちは Ada" in _md(rendered)
    assert "hello Ada" in _md(rendered, "en")
    for lang in ("ja", "en"):
        assert "OUTPUT-FIELD" not in _md(rendered, lang) + _html(rendered, lang)


def test_japanese_is_default_and_english_available(rendered):
    ja, en = _html(rendered), _html(rendered, "en")
    assert "<h1>採点レポート</h1>" in ja and "<h2>課題 1</h2>" in ja
    assert '<html lang="en">' in en
    assert "<h1>Grading report</h1>" in en and "<h2>Task 4</h2>" in en
    assert "課題" not in en and "合格" not in en
    assert "# 採点レポート" in _md(rendered) and "# Grading report" in _md(rendered, "en")


def test_outcomes_are_shown_as_symbol_and_word(rendered):
    md = _md(rendered)
    assert "| 結果 | ✅ 合格 | ❌ 不合格 | ⚠ エラー | ⏱ 時間切れ | — 未実施 |" in md
    assert "| 件数 | 3 | 1 | 1 | 1 | 1 |" in md
    assert "| `task3.save` | ⏱ 時間切れ | 0 / 5 |" in md


def test_what_to_fix_first_lists_unpassed_checks_in_report_order(rendered):
    md = _md(rendered)
    box = md[md.index("## まず直すところ") : md.index("## 採点の条件")]
    assert re.findall(r"^\d+\. \*\*(.+?)\*\*: `(.+?)`", box, re.M) == [
        ("⚠ エラー", "task1.crash"),
        ("❌ 不合格", "task2.cross_entropy"),
        ("⏱ 時間切れ", "task3.save"),
    ]
    assert "([課題 2](#課題-2))" in box and "再現コマンド: `python task2.py`" in box
    # A1 was not attempted: an optional task left out is no mistake to fix.
    assert "A1" not in box and "未実施" not in box
    html = _html(rendered, "en")
    assert html.index('id="fix-first"') < html.index('id="task1"')
    assert '<a href="#check-task1.crash"><code>task1.crash</code></a>' in html
    assert '<tr id="check-task1.crash" class="outcome-error">' in html


def test_no_fix_first_box_when_every_check_passed(tmp_path):
    paths = render_reports(_doc(_all_passed()), tmp_path)
    assert "まず直すところ" not in paths["md"].read_text(encoding="utf-8")
    assert 'id="fix-first"' not in paths["html"].read_text(encoding="utf-8")


def test_failed_check_shows_its_diagnostics(rendered):
    html = _html(rendered)
    assert "<pre><code>Traceback\nZeroDivisionError: ```</code></pre>" in html
    # Details in words: labelled through the catalogue; keys without a label are internal.
    assert "<li>出力された誤差: 1.5</li>" in html and "<li>妥当な範囲の下限: 1.8</li>" in html
    assert "internal_note" not in html and "returncode" not in html
    assert "- Loss printed: 1.5" in _md(rendered, "en")
    # A passed check's details (e.g. the losses list) are not dumped into the report.
    assert "2.3, 1.2" not in html


def test_accuracy_table_and_figure_texts(rendered):
    md, en = _md(rendered), _html(rendered, "en")
    assert "| 正解数 / 標本数 | 8 / 10 |" in md
    assert "| Wilson 区間の下限 (信頼水準 95%) | 49.0% |" in md
    assert "| 合格の閾値 | 40.0% |" in md
    assert "正解 3 → 予測 5" in md
    assert "true 3 → pred 5" in en and "true 2 → pred invalid" in en


def test_public_plan_never_claims_all_passed(tmp_path):
    ja = render_reports(_doc(_all_passed()), tmp_path / "ja")["md"].read_text(encoding="utf-8")
    en = render_reports(_doc(_all_passed()), tmp_path / "en", "en")["md"].read_text(
        encoding="utf-8"
    )
    assert "公開チェックに合格しました" in ja and "すべてのチェックに合格" not in ja
    assert "Public checks passed" in en and "all checks passed" not in en.lower()


def test_hidden_plan_may_say_all_passed(tmp_path):
    doc = _doc(_all_passed(), visibility="hidden", isolation="full")
    md = render_reports(doc, tmp_path, "en")["md"].read_text(encoding="utf-8")
    assert "All checks passed" in md and "Public checks" not in md


def test_reduced_isolation_notice_only_when_reduced(tmp_path, rendered):
    assert "隔離が縮小されています" in _html(rendered)
    assert "isolation was reduced" in _html(rendered, "en")
    full = render_reports(_doc(_all_passed(), isolation="full"), tmp_path)
    assert "隔離が縮小されています" not in full["html"].read_text(encoding="utf-8")


def test_figures_are_skipped_when_their_data_is_absent(tmp_path):
    checks = [
        _check("task3.learning", "not_attempted", 0, 20),
        _check("task4.accuracy", "error", 0, 30, details={"stderr_tail": "boom"}),
    ]
    paths = render_reports(_doc(checks), tmp_path)
    assert list(paths["figures"].iterdir()) == []
    assert "<img" not in paths["html"].read_text(encoding="utf-8")
    assert "task4.accuracy" in paths["md"].read_text(encoding="utf-8")


def test_rerendering_from_results_json_gives_identical_bytes(tmp_path, rendered):
    write_json_atomic(tmp_path / "results.json", _doc())
    again = render_reports(read_results(tmp_path / "results.json"), tmp_path / "again")
    for kind in ("md", "html"):
        assert again[kind].read_bytes() == rendered["ja"][kind].read_bytes()
    before, after = rendered["ja"]["figures"], again["figures"]
    names = sorted(p.name for p in before.iterdir())
    assert names == sorted(p.name for p in after.iterdir())
    for name in names:
        assert (after / name).read_bytes() == (before / name).read_bytes()


def test_rendering_warns_of_nothing_such_as_missing_glyphs(rendered):
    # matplotlib reports a glyph missing from the font (tofu in a Japanese label) as a UserWarning.
    problems = [
        str(w.message)
        for w in rendered["warnings"]
        if issubclass(w.category, UserWarning | RuntimeWarning)
    ]
    assert problems == []


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ValueError, match="fr"):
        render_reports(_doc(), tmp_path, "fr")


def test_confusion_matrix_puts_invalid_answers_in_the_last_column():
    matrix = _confusion([0, 1, 2, 2], [0, None, 12, 7])
    assert matrix.shape == (10, 11)
    assert matrix[0, 0] == 1 and matrix[1, 10] == 1 and matrix[2, 10] == 1 and matrix[2, 7] == 1
    assert matrix.sum() == 4


def test_terminal_table_aligns_japanese_text():
    table, _, notes = format_score_table(_doc()).partition("\n\n")
    lines = table.splitlines()
    assert len({display_width(line) for line in lines}) == 1
    for check in _checks():
        assert any(line.startswith(check.id + " ") for line in lines)
    assert "⏱ 時間切れ" in table and "60 / 80" in lines[-1] and lines[-1].startswith("合計点")
    # The part subtotals sit above the total; the optional A1 is apart and not attempted.
    assert re.search(r"^必修課題 \(課題 1–4\) +含む +60 / 80$", table, re.M)
    assert re.search(r"^発展課題 A1 +含まない \(別に集計\) +— 未実施$", table, re.M)
    assert notes.startswith("合計点は 必修課題 (課題 1–4) の得点です。")


def test_terminal_colour_changes_nothing_but_escape_codes():
    coloured = format_score_table(_doc(), "en", color=True)
    assert "\x1b[31m❌ failed\x1b[0m" in coloured
    assert re.sub(r"\x1b\[\d+m", "", coloured) == format_score_table(_doc(), "en")


def test_display_width_counts_wide_and_combining_characters():
    assert display_width("abc") == 3
    assert display_width("合計") == 4
    assert display_width(unicodedata.normalize("NFD", "が")) == 2
    assert display_width("✅") == 2


def test_every_outcome_has_report_wording():
    for outcome in OUTCOMES:
        assert set(catalogue()[f"outcome.{outcome}"]) == {"ja", "en"}


@pytest.mark.parametrize(
    ("heading", "slug"),
    [("課題 2", "課題-2"), ("Task A1", "task-a1"), ("What to fix: first!", "what-to-fix-first")],
)
def test_markdown_links_use_the_anchor_github_gives_a_heading(heading, slug):
    assert md_slug(heading) == slug
