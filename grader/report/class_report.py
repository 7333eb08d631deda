"""The class report: many students' results.json → class_report.md/.html and grades.csv.

Layout of the input: ``RESULTS_ROOT/<student folder>/results.json``, as ``grade`` (or
batch grading) writes them. The report shows the score distribution, the pass rate of
each check (what most students get wrong first), outcome counts (timeouts, errors, not
attempted), a students × tasks table, the results.json files it could not use and,
when given, similarity pairs (their shape: :mod:`grader.report.class_model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from grader.report.class_data import ClassData, load_class
from grader.report.class_model import build_class_view
from grader.report.class_plots import make_class_figures
from grader.report.render import FIGURES_DIR, check_lang, write_report
from grader.report.text import spreadsheet_safe

CSV_NAME = "grades.csv"


def grades_table(data: ClassData) -> pd.DataFrame:
    """The grade sheet: one row per student folder, in folder order.

    Columns: ``student_id``, ``total``, ``max``, the points of each task (named by task:
    ``task1`` …), the outcome of each check (named by check id: ``task1.output_format`` …)
    and ``problem``, which says why a folder whose results could not be read has no scores.
    """
    graded = pd.concat(
        [
            data.students.rename(columns={"score": "total", "max_score": "max"}),
            data.task_scores(),
            data.outcomes(),
        ],
        axis=1,
    )
    broken = pd.DataFrame(
        {
            "student_id": [p.folder for p in data.problems],
            "problem": [p.reason for p in data.problems],
        },
        index=[p.folder for p in data.problems],
    )
    table = pd.concat([graded, broken]).sort_index(kind="stable")
    columns = ["student_id", "total", "max", *data.tasks, *data.check_ids, "problem"]
    return table.reindex(columns=columns)


def write_grades_csv(data: ClassData, path: Path) -> None:
    """``grades.csv`` in UTF-8 with a BOM and CRLF line ends, so Excel opens it as it is.

    This is the one writer of grades.csv (batch and ``class-report`` alike): every header
    and text cell goes through :func:`~grader.report.text.spreadsheet_safe`, so a student
    id such as ``=HYPERLINK(…)`` or ``-1+1`` is shown as text, never run as a formula.
    """
    table = grades_table(data)
    table = table.rename(columns=spreadsheet_safe).map(spreadsheet_safe)
    table.to_csv(
        path, index=False, encoding="utf-8-sig", lineterminator="\r\n", float_format="%g"
    )


def render_class_report(
    results_root: Path,
    out_dir: Path,
    lang: str = "ja",
    similarity: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Path]:
    """Render the class report of ``results_root`` into ``out_dir``.

    Writes ``class_report.md`` (PNGs in ``figures/``), a self-contained
    ``class_report.html`` and ``grades.csv``; returns their paths under ``md``, ``html``,
    ``figures`` and ``csv``. Unusable results.json files are listed in the report and the
    CSV rather than stopping it. ``similarity``: pairs to list, shaped as documented in
    :mod:`grader.report.class_model`; ``None`` leaves that section out.
    """
    check_lang(lang)
    # The output may sit inside the root (even be it): its folders are not students.
    data = load_class(results_root, skip=(out_dir, out_dir / FIGURES_DIR))
    figures = make_class_figures(data, lang)
    view = build_class_view(data, figures, lang, similarity, CSV_NAME)
    paths = write_report("class_report", "class", view, figures, out_dir, lang)
    write_grades_csv(data, out_dir / CSV_NAME)
    return {**paths, "csv": out_dir / CSV_NAME}
