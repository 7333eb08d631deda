"""Reading check records out of a results.json dict, in the order the report shows them."""

from __future__ import annotations

import re
from typing import Any

from grader.results import CheckResult, checks_from_json
from grader.scoring import part_of, part_sort_key

# Checks whose details feed the figures and the accuracy table.
LEARNING_CHECK = "task3.learning"
ACCURACY_CHECK = "task4.accuracy"

_REQUIRED_TASK = re.compile(r"task(\d+)")


def task_sort_key(task: str) -> tuple[tuple[int, int, str], int, list[int | str]]:
    """By part of the course (required, report, A1 …, B1 …), then required tasks (task1 …
    task4) before the code as a whole, then in natural order."""
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", task)]
    return (part_sort_key(part_of(task)), 0 if _REQUIRED_TASK.fullmatch(task) else 1, natural)


def task_number(task: str) -> str:
    """``task3`` → ``3``; other task names are already short (``A1``)."""
    match = _REQUIRED_TASK.fullmatch(task)
    return match.group(1) if match else task


def checks_by_task(doc: dict[str, Any]) -> list[tuple[str, list[CheckResult]]]:
    """The doc's checks grouped by task, tasks sorted, checks in plan order within a task."""
    groups: dict[str, list[CheckResult]] = {}
    for check in checks_from_json(doc):
        groups.setdefault(check.task, []).append(check)
    return [(task, groups[task]) for task in sorted(groups, key=task_sort_key)]


def ordered_checks(doc: dict[str, Any]) -> list[CheckResult]:
    """All checks in report order."""
    return [check for _, checks in checks_by_task(doc) for check in checks]


def find_check(checks: list[CheckResult], check_id: str) -> CheckResult | None:
    """The check with ``check_id``, or None when the plan did not run it."""
    return next((c for c in checks if c.id == check_id), None)
