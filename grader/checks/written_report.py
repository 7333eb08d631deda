"""The written report against the course's rubric (see :mod:`grader.rubric`).

The report is read as text in the grader process (nothing in it is executed): parsing
Markdown, notebook JSON or HTML runs no student code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.checks.base import Context, Verdict, check
from grader.checks.reproduce import GRADE_HERE
from grader.results import Message
from grader.rubric import RubricError, check_report, find_report, load_rubric


@check("report.rubric", program=None, rubric="", reproduce=GRADE_HERE)
def report_rubric(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Each section: a summary long enough, implementation results and a discussion."""
    path = find_report(ctx.sandbox.workspace)
    if path is None:
        return Verdict("not_attempted", Message("rubric.no_report"))
    try:
        rubric = load_rubric(Path(settings["rubric"]) if settings["rubric"] else None)
        result = check_report(path, rubric)
    except RubricError as e:
        return Verdict("failed", Message(e.key, e.params))
    passed = sum(s.passed for s in result.sections)
    details = {"file": path.name, "sections_passed": f"{passed} / {len(result.sections)}",
               "sections": [s.to_dict() for s in result.sections]}
    failing = next((s for s in result.sections if not s.passed), None)
    if failing is None:
        return Verdict("passed", Message("rubric.all_ok", {"sections": passed}), details)
    first = failing.messages[0]
    return Verdict("failed", Message(first.key, dict(first.params)), details,
                   fraction=result.score)
