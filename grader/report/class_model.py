"""The class report's view: every table and sentence already worded in the report language.

Similarity pairs (filled in by batch grading) are passed as a list of dicts, one per
flagged pair, in any order::

    {"a": "s001", "b": "s017", "score": 0.91,                # required
     "method": "code: winnowing",                           # optional, what was compared
     "detail": "task3.py ~ task3.py, 61 shared fingerprints"}  # optional, the evidence

``a`` and ``b`` are student ids as in the class table, ``score`` a similarity in [0, 1].
Other keys are ignored, so the batch code may keep more in the same dicts. The report
lists the pairs highest score first; ``None`` (not ``[]``) leaves the section out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from grader.i18n import tr
from grader.report.class_data import ClassData, Problem
from grader.report.class_plots import score_percentages
from grader.report.outcomes import format_score, outcome_label
from grader.report.plots import Figure
from grader.report.records import task_number
from grader.report.view import (
    MISSING,
    Cell,
    Fact,
    NumberedFigure,
    Table,
    facts_table,
    number_figures,
    percent,
    text_row,
)
from grader.results import OUTCOMES

SIMILARITY_REQUIRED = ("a", "b", "score")
SIMILARITY_OPTIONAL = ("method", "detail")


@dataclass(frozen=True)
class SimilarityPair:
    """Two students whose work is alike, how much (0–1), by which method, on what evidence."""

    a: str
    b: str
    score: float
    method: str = ""
    detail: str = ""


def similarity_pairs(raw: Sequence[dict[str, Any]]) -> list[SimilarityPair]:
    """Validate the pairs (shape in the module docstring), highest score first.

    Raises ValueError naming the first bad entry: these come from the batch code, not
    from students, so a bad one is a bug to fix rather than a problem to report.
    """
    pairs = []
    for i, entry in enumerate(raw):
        missing = [k for k in SIMILARITY_REQUIRED if k not in entry]
        if missing:
            raise ValueError(f"similarity[{i}]: missing {', '.join(missing)}")
        score = entry["score"]
        if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 1:
            raise ValueError(f"similarity[{i}]: score must be a number in [0, 1], got {score!r}")
        extra = {k: str(entry[k]) for k in SIMILARITY_OPTIONAL if entry.get(k) is not None}
        pairs.append(SimilarityPair(str(entry["a"]), str(entry["b"]), float(score), **extra))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


@dataclass
class ClassView:
    """Everything the class templates need; a ``None`` table leaves its section out."""

    lang: str
    overview: list[Fact]
    has_students: bool
    problems: Table | None
    status: Table
    stats: Table
    histogram: NumberedFigure | None
    pass_rates: Table
    pass_rate_figure: NumberedFigure | None
    students: Table
    similarity: Table | None
    footer: str


def build_class_view(
    data: ClassData,
    figures: list[Figure],
    lang: str,
    similarity: Sequence[dict[str, Any]] | None,
    csv_name: str,
) -> ClassView:
    """Turn the class tables and their figures into a :class:`ClassView`."""
    numbered = {n.figure.name: n for n in number_figures(figures, lang)}
    return ClassView(
        lang=lang,
        overview=_overview(data, csv_name, lang),
        has_students=not data.students.empty,
        problems=_problems(data.problems, lang) if data.problems else None,
        status=_status(data, lang),
        stats=_stats(data, lang),
        histogram=numbered.get("score_histogram.png"),
        pass_rates=_pass_rates(data, lang),
        pass_rate_figure=numbered.get("pass_rates.png"),
        students=_students(data, lang),
        similarity=None if similarity is None else _similarity(similarity_pairs(similarity), lang),
        footer=tr(
            "class.footer",
            lang,
            count=len(data.students),
            versions=", ".join(data.versions) or MISSING,
        ),
    )


def _overview(data: ClassData, csv_name: str, lang: str) -> list[Fact]:
    rows = [
        ("students", tr("class.unit.students", lang, n=len(data.students))),
        ("problems", str(len(data.problems))),
        ("plans", ", ".join(data.plans) or MISSING),
        ("versions", ", ".join(data.versions) or MISSING),
        ("csv", csv_name),
    ]
    return [Fact(tr(f"class.overview.{key}", lang), value) for key, value in rows]


def _problems(problems: list[Problem], lang: str) -> Table:
    return Table(
        css="problems",
        head=(tr("class.col.file", lang), tr("class.col.reason", lang)),
        rows=tuple((Cell(p.path, code=True), Cell(p.reason)) for p in problems),
        numeric=(False, False),
    )


def _status(data: ClassData, lang: str) -> Table:
    counts = data.status_counts()
    return Table(
        css="status",
        head=(
            tr("report.col.outcome", lang),
            tr("class.col.checks", lang),
            tr("class.col.students_with", lang),
        ),
        rows=tuple(
            text_row(
                outcome_label(o, lang), str(counts.at[o, "checks"]), str(counts.at[o, "students"])
            )
            for o in OUTCOMES
        ),
        numeric=(False, True, True),
    )


def _stats(data: ClassData, lang: str) -> Table:
    """Mean, median, lowest and highest score as a share of the maximum."""
    scores = pd.Series(score_percentages(data), dtype=float)
    summary = scores.agg(["mean", "median", "min", "max"])
    facts = [
        Fact(tr(f"class.stats.{key}", lang), MISSING if scores.empty else f"{value:.1f}%")
        for key, value in summary.items()
    ]
    return facts_table(
        "stats", facts, tr("report.accuracy.item", lang), tr("class.stats.value", lang)
    )


def _pass_rates(data: ClassData, lang: str) -> Table:
    """Checks by pass rate, lowest first, with how many students got each other outcome."""
    counts = data.outcome_counts()
    task_of = dict(zip(data.checks["check"], data.checks["task"], strict=True))
    others = [o for o in OUTCOMES if o != "passed"]
    return Table(
        css="pass-rates",
        head=(
            tr("report.col.id", lang),
            tr("class.col.task", lang),
            tr("class.col.pass_rate", lang),
            tr("class.col.passed_of", lang),
            *(outcome_label(o, lang) for o in others),
        ),
        rows=tuple(
            (
                Cell(check, code=True),
                Cell(task_number(task_of[check])),
                Cell(percent(row["pass_rate"])),
                # iterrows gives floats here (the row mixes counts and the rate).
                Cell(f"{int(row['passed'])} / {int(row['n'])}"),
                *(Cell(str(int(row[o]))) for o in others),
            )
            for check, row in counts.iterrows()
        ),
        numeric=(False, False, True, True, *(True for _ in others)),
    )


def _score_cell(value: float) -> str:
    return MISSING if math.isnan(value) else format_score(value)


def _students(data: ClassData, lang: str) -> Table:
    """Students (rows) × tasks (points), then the total out of the student's maximum."""
    scores = data.task_scores()
    task_max = data.task_max()
    head = (
        tr("report.header.student", lang),
        *(
            tr("class.col.task_max", lang, name=task_number(t), max=format_score(task_max[t]))
            for t in data.tasks
        ),
        tr("report.summary.total", lang),
    )
    rows = tuple(
        text_row(
            student.student_id,
            *(_score_cell(scores.at[folder, t]) for t in data.tasks),
            f"{format_score(student.score)} / {format_score(student.max_score)}",
        )
        for folder, student in data.students.iterrows()
    )
    return Table(css="students", head=head, rows=rows, numeric=(False, *(True for _ in head[1:])))


def _similarity(pairs: list[SimilarityPair], lang: str) -> Table:
    return Table(
        css="similarity",
        head=tuple(
            tr(f"class.col.{key}", lang)
            for key in ("rank", "a", "b", "similarity", "method", "detail")
        ),
        rows=tuple(
            text_row(
                str(rank), p.a, p.b, f"{p.score:.2f}", p.method or MISSING, p.detail or MISSING
            )
            for rank, p in enumerate(pairs, start=1)
        ),
        numeric=(True, False, False, True, False, False),
    )
