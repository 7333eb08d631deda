"""A failed gradient check shows the table of its worst coordinates."""

from __future__ import annotations

from pathlib import Path

from grader.report import render_reports
from grader.results import CheckResult, GradeRun, Message, to_json_dict


def test_worst_coordinates_table(tmp_path: Path) -> None:
    worst = [{"tensor": "W", "index": "(1, 2)", "analytic": 0.5, "numeric": -0.25,
              "abs_error": 0.75}]
    check = CheckResult("task3.affine.backward", "task3", "failed", 0, 1,
                        Message("api.gradient_wrong", {"kind": "affine", "tensor": "W",
                                                       "error": "1e-1", "threshold": "1e-5"}),
                        {"errors": {"W": 0.1}, "worst": worst})
    run = GradeRun("0", {"student_id": "s"}, {"name": "p", "visibility": "public"},
                   {"source": "x"}, {"kind": "bwrap", "isolation": "full"}, {}, "now", 1.0, "en")
    doc = to_json_dict(run, [check], render=lambda m: m.key)
    paths = render_reports(doc, tmp_path, "en")
    md = paths["md"].read_text(encoding="utf-8")
    assert "task3.affine.backward: the worst coordinates" in md
    assert "| W | `(1, 2)` | 0.5 | -0.25 | 0.75 |" in md
    html = paths["html"].read_text(encoding="utf-8")
    assert "the worst coordinates" in html and "-0.25" in html
