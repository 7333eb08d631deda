"""The parts of the course in a report: subtotals, what the total counts, what was left out.

Everything here reads the parts results.json recorded (:mod:`grader.scoring`) and words
it in the report language, for the summary at the top of both reports and the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grader.i18n import tr
from grader.report.outcomes import format_score, outcome_label
from grader.report.view import Fact, Table, text_row
from grader.results import CheckResult
from grader.scoring import REQUIRED, PartScore

_OPTIONAL_TASK = re.compile(r"([AB])\d+")
# The message run_check records for a check whose program was not handed in.
_PROGRAM_MISSING = "check.not_attempted"


def part_name(part: str, lang: str) -> str:
    """必修課題 (課題 1–4), レポート, 発展課題 A1, フレームワーク課題 B1; else the id."""
    match = _OPTIONAL_TASK.fullmatch(part)
    if match:
        kind = "advanced" if match.group(1) == "A" else "framework"
        return tr(f"part.{kind}", lang, name=part)
    if part in (REQUIRED, "report"):
        return tr(f"part.{part}", lang)
    return part


def part_points(part: PartScore, lang: str) -> str:
    """``23 / 23``; an optional part nobody attempted reads "not attempted" instead."""
    if not part.attempted and not part.counted:
        return outcome_label("not_attempted", lang)
    return f"{format_score(part.score)} / {format_score(part.max_score)}"


def parts_table(parts: Sequence[PartScore], lang: str) -> Table:
    """Per part: its points, whether they count toward the total, checks passed."""
    return Table(
        css="parts",
        head=tuple(tr(f"report.parts.col.{key}", lang)
                   for key in ("part", "score", "counted", "passed")),
        rows=tuple(
            text_row(
                part_name(p.id, lang),
                part_points(p, lang),
                tr("report.parts.counted" if p.counted else "report.parts.not_counted", lang),
                f"{p.passed} / {p.checks}",
            )
            for p in parts
        ),
        numeric=(False, True, False, True),
    )


def headline_note(parts: Sequence[PartScore], lang: str) -> str:
    """Which parts the total adds up, and that the others are shown beside it."""
    counted = [part_name(p.id, lang) for p in parts if p.counted]
    others = [part_name(p.id, lang) for p in parts if not p.counted]
    names = tr("report.parts.list_sep", lang).join(counted) or tr("report.parts.none", lang)
    if not others:
        return tr("report.parts.total_all", lang, parts=names)
    return tr("report.parts.total_some", lang, parts=names,
              others=tr("report.parts.list_sep", lang).join(others))


def summary_notes(checks: Sequence[CheckResult], lang: str) -> list[str]:
    """Notes under the part subtotals: which checks left the maximum and why, and which
    the grader could not verify (scored as passed, for the instructor to look at)."""
    notes = []
    left_out = [c.id for c in checks if c.excluded]
    if left_out:
        notes.append(tr("report.parts.excluded", lang, count=len(left_out),
                        checks=", ".join(left_out), doc=tr("report.doc.api", lang)))
    unverified = [c.id for c in checks if c.outcome == "unverified"]
    if unverified:
        notes.append(tr("report.parts.unverified", lang, count=len(unverified),
                        checks=", ".join(unverified)))
    return notes


def missing_note(checks: Sequence[CheckResult], parts: Sequence[PartScore],
                 lang: str) -> Fact | None:
    """What of the counted parts was not handed in or could not be run, or None.

    Only the parts the total counts: an optional task that was not attempted is no
    mistake, and a check left out of the maximum is said in the summary instead.
    """
    counted = {p.id for p in parts if p.counted}
    absent = [c for c in checks if c.part in counted and c.outcome == "not_attempted"
              and not c.excluded]
    if not absent:
        return None
    programs = list(dict.fromkeys(str(c.message.params.get("program")) for c in absent
                                  if c.message.key == _PROGRAM_MISSING))
    others = [c for c in absent if c.message.key != _PROGRAM_MISSING]
    sentences = []
    if programs:
        sentences.append(tr("report.fix.missing_programs", lang, programs=", ".join(programs)))
    if others:
        sentences.append(tr("report.fix.not_run", lang, count=len(others),
                            checks=", ".join(c.id for c in others),
                            doc=tr("report.doc.api", lang)))
    return Fact(outcome_label("not_attempted", lang), " ".join(sentences))


def judged(checks: Sequence[CheckResult], parts: Sequence[PartScore]) -> list[CheckResult]:
    """The checks that judge the work: not left out of the maximum, and not the unattempted
    checks of a part that does not count (an optional task not tried is neutral)."""
    counted = {p.id for p in parts if p.counted}
    return [c for c in checks if not c.excluded
            and (c.part in counted or c.outcome != "not_attempted")]

