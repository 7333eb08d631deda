"""Output hygiene of the reports: what a program printed cannot forge structure in
report.md or report.html (fences it cannot close, ``\\r`` and other controls normalised),
and grades.csv cells cannot run as spreadsheet formulas on any path that writes it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.batch import run_batch
from grader.cli import main
from grader.report import render_reports
from grader.report.class_report import render_class_report
from grader.report.markdown import md_code, md_fence, md_text
from grader.report.text import clean, spreadsheet_safe
from grader.results import CheckResult, GradeRun, Message, to_json_dict

CLASS = Path(__file__).parent / "data" / "class"
# Every character Python (and so many viewers) takes for a line end, and invisible controls.
LINE_ENDS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
CONTROLS = "\x00\x07\x1b\x7f\x9b\u202e\u2066\ufeff"
HOSTILE_OUTPUT = ("予測: 4\r# Forged heading\r\n````\n```\n## Also forged\x1b[2J\u202eabc"
                  "\u2028### Third\x85#### Fourth\n")
text_with_controls = st.text(alphabet=st.sampled_from(
    list("ab`~#|\n\t ") + list(LINE_ENDS) + list(CONTROLS)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(text_with_controls)
def test_clean_leaves_newline_as_the_only_line_end_and_no_invisible_control(text) -> None:
    out = clean(text)
    assert out.splitlines() == out.split("\n")[: len(out.splitlines())]
    assert not any(ch in out for ch in LINE_ENDS + CONTROLS)
    assert clean(out) == out


@settings(max_examples=200, deadline=None)
@given(text_with_controls)
def test_a_fence_cannot_be_closed_by_its_content(text) -> None:
    lines = md_fence(text).split("\n")
    fence = lines[0].removesuffix("text")
    assert set(fence) == {"`"} and lines[-1] == fence
    # CommonMark closes a fence with a line of at least as many backticks (up to 3 spaces
    # of indent); no line inside may be one.
    for line in lines[1:-1]:
        stripped = line.lstrip(" ")
        run = len(stripped) - len(stripped.lstrip("`"))
        assert run < len(fence) or len(line) - len(stripped) > 3


@settings(max_examples=200, deadline=None)
@given(text_with_controls)
def test_inline_text_and_code_stay_on_one_line(text) -> None:
    for out in (md_text(text), md_code(text), md_code(text, table=True)):
        assert len(out.splitlines()) <= 1 and "\r" not in out


def _doc() -> dict:
    run = GradeRun(grader_version="0.1.0", submission={"student_id": "s1", "path": "s1"},
                   plan={"name": "public", "visibility": "public"}, data={"source": "x"},
                   sandbox={"kind": "bwrap", "isolation": "full"}, seeds={},
                   started_at="2026-04-01T00:00:00+09:00", duration_s=1.0, lang="ja")
    check = CheckResult(
        "task1.output_format", "task1", "failed", 0, 1,
        Message("classify.bad_format", {"program": "task1.py", "index": 3,
                                         "printed": HOSTILE_OUTPUT}),
        details={"index": 3, "stdout": HOSTILE_OUTPUT, "stderr_tail": HOSTILE_OUTPUT},
        reproduce="echo 3 | python task1.py\r# Forged")
    return to_json_dict(run, [check], render=lambda m: m.key)


def _outside_fences(md: str) -> list[str]:
    """The lines of ``md`` that are not inside a fenced code block (CommonMark's rule: a
    fence closes on a line of at least as many backticks as opened it)."""
    lines, fence = [], ""
    for line in md.splitlines():
        run = line[: len(line) - len(line.lstrip("`"))]
        if not fence and len(run) >= 3:
            fence = run
        elif fence and len(run) >= len(fence) and not line.strip("`"):
            fence = ""
        elif not fence:
            lines.append(line)
    return lines


def test_program_output_cannot_forge_structure_in_either_report(tmp_path) -> None:
    paths = render_reports(_doc(), tmp_path)
    md = paths["md"].read_text(encoding="utf-8")
    html = paths["html"].read_text(encoding="utf-8")
    for text in (md, html):
        assert not any(ch in text for ch in LINE_ENDS + CONTROLS)
    # Only the report's own headings start a line with "#" outside code blocks.
    headings = [line for line in _outside_fences(md) if line.startswith("#")]
    assert headings == ["# 採点レポート", "## 結果の概要", "## まず直すところ",
                        "## 採点の条件", "## 課題 1"]
    # The output is shown whole, inside fences longer than any backtick run in it.
    assert "`````text\n予測: 4\n# Forged heading\n````\n```\n## Also forged" in md


def _graded_one_by_one(root: Path, student_ids: list[str]) -> Path:
    """Folders as ``grade`` leaves them, one per student, each with its student id."""
    doc = json.loads((CLASS / "s001" / "results.json").read_text(encoding="utf-8"))
    for i, student in enumerate(student_ids):
        doc["extra_data"]["submission"]["student_id"] = student
        (root / f"f{i}").mkdir(parents=True)
        (root / f"f{i}" / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    return root


FORMULAS = ['=HYPERLINK("http://evil","x")', "@SUM(A1:A9)", "+1+1", "-2+3", "\tx", "\rx"]


def _cells(path: Path) -> list[list[str]]:
    # As bytes: reading text would turn a cell's lone \r into a line end.
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_spreadsheet_safe_prefixes_only_what_could_start_a_formula() -> None:
    assert [spreadsheet_safe(x) for x in FORMULAS] == ["'" + x for x in FORMULAS]
    assert [spreadsheet_safe(x) for x in ("s001", "", "1-2", 3.5, -1, None)] == [
        "s001", "", "1-2", 3.5, -1, None]


def test_class_report_over_folders_graded_one_by_one_neutralises_ids(tmp_path) -> None:
    root = _graded_one_by_one(tmp_path / "graded", [*FORMULAS, "s001"])
    paths = render_class_report(root, tmp_path / "out")
    rows = _cells(paths["csv"])
    _assert_no_formula(rows)
    ids = [row[0] for row in rows[1:]]
    assert ids == ["'" + x for x in FORMULAS] + ["s001"]
    # Numbers stay numbers.
    assert rows[1][1:3] == ["16", "16"]


def test_the_class_report_command_neutralises_ids_and_problem_folders(tmp_path, capsys) -> None:
    root = _graded_one_by_one(tmp_path / "graded", ["=1+1"])
    (root / "-oops").mkdir()  # a folder without results.json: a row naming it
    assert main(["class-report", str(root)]) == 0
    rows = _cells(root / "_class_report" / "grades.csv")
    _assert_no_formula(rows)
    assert sorted(row[0] for row in rows[1:]) == ["'-oops", "'=1+1"]


def test_batch_neutralises_ids_of_submissions_it_could_not_grade(tmp_path, capsys) -> None:
    # Unsafe archives are refused before anything runs: the batch path, without grading.
    import zipfile

    subs = tmp_path / "class"
    subs.mkdir()
    for name in ("-1+2", "@x", "ok"):
        with zipfile.ZipFile(subs / f"{name}.zip", "w") as zf:
            zf.writestr("../../escaped.py", "print('out')\n")
    (subs / "manifest.csv").write_text("path,student_id\nok.zip,=cmd\n", encoding="utf-8")
    out = tmp_path / "out"
    # The progress display goes to a stream of its own (batch's default is bound at import).
    summary = run_batch(subs, out, jobs=1, stream=io.StringIO())
    assert not summary.graded and len(summary.not_graded) == 3
    assert main(["class-report", str(out)]) == 0  # what `batch` runs after grading
    rows = _cells(out / "_class_report" / "grades.csv")
    _assert_no_formula(rows)
    assert len(rows) == 4 and all(row[-1] for row in rows[1:])  # each says why
    assert sorted(row[0] for row in rows[1:]) == ["'-1_2", "_cmd", "_x"]
