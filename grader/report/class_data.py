"""A class's results: every student's results.json read into pandas tables.

The results root holds one sub-folder per student, each with the ``results.json`` that
``grade`` wrote. A folder whose file is missing, unreadable or malformed becomes a
:class:`Problem` (which file, why) and the others are still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from grader.report.records import ordered_checks, task_sort_key
from grader.results import OUTCOMES, CheckResult, ResultsError, read_results

RESULTS_FILE = "results.json"

# One row per student, and one per (student, check).
STUDENT_COLUMNS = ("folder", "student_id", "score", "max_score")
CHECK_COLUMNS = ("folder", "task", "check", "outcome", "score", "max_score")


@dataclass(frozen=True)
class Problem:
    """A results.json that could not be used: its student folder, path under the root, and why."""

    folder: str
    path: str
    reason: str


@dataclass(frozen=True)
class ClassData:
    """The class as tables.

    - ``students``: index ``folder``; columns ``student_id``, ``score``, ``max_score``.
    - ``checks``: one row per student and check, columns :data:`CHECK_COLUMNS`.
    - ``tasks`` and ``check_ids``: in report order (task 1 … 4, then A1 …; plan order
      within a task).
    """

    students: pd.DataFrame
    checks: pd.DataFrame
    tasks: list[str]
    check_ids: list[str]
    problems: list[Problem]
    plans: list[str]
    versions: list[str]

    def task_scores(self) -> pd.DataFrame:
        """Points per student (rows, by folder) and task (columns); NaN where not graded."""
        table = self.checks.pivot_table(
            index="folder", columns="task", values="score", aggfunc="sum"
        )
        return table.reindex(index=self.students.index, columns=self.tasks)

    def task_max(self) -> pd.Series:
        """The most points any student could get per task (plans may differ between students)."""
        per_student = self.checks.groupby(["task", "folder"])["max_score"].sum()
        return per_student.groupby("task").max().reindex(self.tasks)

    def outcomes(self) -> pd.DataFrame:
        """Each student's outcome (rows) of each check (columns); NaN where not run."""
        wide = self.checks.pivot(index="folder", columns="check", values="outcome")
        return wide.reindex(index=self.students.index, columns=self.check_ids)

    def outcome_counts(self) -> pd.DataFrame:
        """Per check: how many students got each outcome, their number ``n`` and ``pass_rate``.

        Sorted by pass rate, lowest first (what most students get wrong), then report order.
        """
        counts = pd.crosstab(self.checks["check"], self.checks["outcome"])
        counts = counts.reindex(index=self.check_ids, columns=list(OUTCOMES), fill_value=0)
        counts["n"] = counts[list(OUTCOMES)].sum(axis=1)
        counts["pass_rate"] = counts["passed"] / counts["n"]
        counts["order"] = range(len(counts))
        return counts.sort_values(["pass_rate", "order"], kind="stable").drop(columns="order")

    def status_counts(self) -> pd.DataFrame:
        """Per outcome: how many check results had it and how many students had at least one."""
        by_outcome = self.checks.groupby("outcome")
        return pd.DataFrame(
            {
                "checks": by_outcome.size(),
                "students": by_outcome["folder"].nunique(),
            }
        ).reindex(list(OUTCOMES), fill_value=0)


def _student_folders(results_root: Path, skip: Sequence[Path]) -> list[Path]:
    """Sub-folders of the root in name order, without hidden ones and those in ``skip``."""
    skipped = {p.resolve() for p in skip}
    return sorted(
        p
        for p in results_root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.resolve() not in skipped
    )


@dataclass(frozen=True)
class _Graded:
    """What the class report uses of one student's results.json."""

    student_id: str
    score: float
    max_score: float
    plan: str
    version: str
    checks: list[CheckResult]


def _read(path: Path, folder: str) -> _Graded:
    """One student's results; :class:`ResultsError` saying why when they cannot be used."""
    doc = read_results(path)
    run = doc["extra_data"]
    if "error" in run:
        # A batch records submissions it could not grade at all (e.g. an unsafe archive).
        raise ResultsError(f"{path}: not graded: {run['error']}")
    return _Graded(
        student_id=str(run["submission"].get("student_id") or folder),
        score=float(doc["score"]),
        max_score=float(doc["max_score"]),
        plan=str(run["plan"].get("name", "?")),
        version=str(run.get("grader_version", "?")),
        checks=ordered_checks(doc),
    )


def load_class(results_root: Path, skip: Sequence[Path] = ()) -> ClassData:
    """Read ``<results_root>/*/results.json``; ``skip``: folders to leave out (the output's).

    Raises :class:`ResultsError` when the root itself is not a folder.
    """
    if not results_root.is_dir():
        raise ResultsError(f"{results_root}: not a folder of graded submissions")
    students: list[tuple[str, str, float, float]] = []
    rows: list[tuple[str, str, str, str, float, float]] = []
    problems: list[Problem] = []
    plans: set[str] = set()
    versions: set[str] = set()
    for folder in _student_folders(results_root, skip):
        path = folder / RESULTS_FILE
        try:
            graded = _read(path, folder.name)
        except ResultsError as e:
            # The reason without the absolute path, so the report is the same wherever it runs.
            reason = str(e).removeprefix(f"{path}: ")
            problems.append(Problem(folder.name, path.relative_to(results_root).as_posix(), reason))
            continue
        students.append((folder.name, graded.student_id, graded.score, graded.max_score))
        rows.extend(
            (folder.name, c.task, c.id, c.outcome, float(c.score), float(c.max_score))
            for c in graded.checks
        )
        plans.add(graded.plan)
        versions.add(graded.version)
    checks = pd.DataFrame(rows, columns=list(CHECK_COLUMNS))
    return ClassData(
        students=pd.DataFrame(students, columns=list(STUDENT_COLUMNS)).set_index("folder"),
        checks=checks,
        tasks=sorted(set(checks["task"]), key=task_sort_key),
        check_ids=_check_order(checks),
        problems=problems,
        plans=sorted(plans),
        versions=sorted(versions),
    )


def _check_order(checks: pd.DataFrame) -> list[str]:
    """Check ids by task, then where they first appear (each doc lists them in plan order)."""
    first = checks.drop_duplicates("check")
    task_of = dict(zip(first["check"], first["task"], strict=True))
    return sorted(task_of, key=lambda check: task_sort_key(task_of[check]))
