"""The written report against the course's rubric (see :mod:`grader.rubric`).

The report is read as text in the grader process (nothing in it is executed): parsing
Markdown, notebook JSON or HTML runs no student code. It is read from the snapshot taken
before any program ran: a program cannot swap it for a link, a pipe or another text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.checks.base import Context, Verdict, check
from grader.checks.reproduce import GRADE_HERE
from grader.results import Message
from grader.rubric import RubricError, check_report, find_report, is_report_name, load_rubric
from grader.submission import left_out_message


@check("report.rubric", program=None, rubric="", reproduce=GRADE_HERE)
def report_rubric(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Each section: a summary long enough, implementation results and a discussion."""
    path = find_report(ctx.snapshot)
    if path is None:
        refused = [lo for lo in ctx.submission.left_out if is_report_name(lo.path)]
        if refused:  # handed in as a link or a pipe: say so rather than "no report"
            return Verdict("failed", left_out_message(refused))
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
