"""The score model: the parts of the course, a subtotal per part and the headline total.

A check belongs to the part of the course its id starts with (:func:`part_of`):

- ``required``: 課題 1–4 (``task1`` … ``task4``) and the code as a whole (``code``);
- ``report``: the written report;
- ``A1`` … ``A7``: each advanced task; ``B1`` … ``B3``: each framework task;
- any other prefix (a check an instructor's module registers) is a part of that name.

The plan's ``[parts]`` table (:class:`Counting`, read by :mod:`grader.plan`) decides
which parts are added into the headline total and how many points each is worth. By
default only the required part counts when the plan has one (what a student sees first);
the other parts are shown as subtotals of their own. A plan without required checks
(the framework plan) counts every part it has.

A required check the grader could not call (an API check that found no implementation:
``not_attempted`` without a program of its own) leaves the maximum instead of costing
points, unless the plan sets ``uncallable_costs``: the program checks of the task still
judge the work, and a correct submission in any code style can reach full marks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

REQUIRED = "required"
REPORT = "report"
# The prefixes of the required part: the four task programs and the code as a whole.
REQUIRED_PREFIXES = frozenset({"task1", "task2", "task3", "task4", "code"})
# The parts the course defines; instructors' checks may add parts of other names.
# The framework tasks (part 2 of the course, with PyTorch).
FRAMEWORK_PARTS = tuple(f"B{i}" for i in range(1, 4))
COURSE_PARTS = (REQUIRED, REPORT, *(f"A{i}" for i in range(1, 8)), *FRAMEWORK_PARTS)
# Why a check is left out of its part's maximum (recorded in results.json).
UNCALLABLE = "uncallable"
ALL_PARTS = "*"

_OPTIONAL_TASK = re.compile(r"([AB])(\d+)")


def part_of(check_id: str) -> str:
    """The part of the course a check belongs to, from its id's prefix.

    ``task3.affine.forward`` → ``required``; ``A2.dropout.share`` → ``A2``;
    ``report.rubric`` → ``report``; ``extra.bonus`` → ``extra``.
    """
    prefix = check_id.split(".", 1)[0]
    return REQUIRED if prefix in REQUIRED_PREFIXES else prefix


def part_sort_key(part: str) -> tuple[int, int, str]:
    """Report order: required, the written report, A1 … A7, B1 … B3, then the others."""
    if part == REQUIRED:
        return (0, 0, "")
    if part == REPORT:
        return (1, 0, "")
    match = _OPTIONAL_TASK.fullmatch(part)
    if match:
        return (2 if match.group(1) == "A" else 3, int(match.group(2)), "")
    return (4, 0, part)


@dataclass(frozen=True)
class Counting:
    """How checks add up (the plan's ``[parts]`` table).

    ``counted``: the parts added into the headline total (``("*",)``: every part);
    ``None`` is the default described in the module docstring.
    ``points``: part → the points it is scaled to (default: the sum of its weights).
    ``uncallable_costs``: a required check the grader could not call still counts in
    the maximum.
    """

    counted: tuple[str, ...] | None = None
    points: dict[str, float] = field(default_factory=dict)
    uncallable_costs: bool = False

    def counts(self, part: str, present: Iterable[str]) -> bool:
        """Whether ``part`` is added into the headline, given the parts the plan has."""
        if self.counted is None:
            present = set(present)
            return part == REQUIRED or REQUIRED not in present
        return ALL_PARTS in self.counted or part in self.counted

    def describe(self) -> dict[str, Any]:
        """What results.json records about the counting rules."""
        return {"counted": None if self.counted is None else list(self.counted),
                "points": dict(self.points), "uncallable_costs": self.uncallable_costs}


class Scored(Protocol):
    """What the score model reads of a check record (:class:`grader.results.CheckResult`)."""

    id: str
    outcome: str
    score: float
    max_score: float
    excluded: str


def excluded_reason(check_id: str, has_program: bool, outcome: str,
                    counting: Counting) -> str:
    """Why a check leaves its part's maximum, or "" when it counts as usual.

    Only a required check that the grader could not call (not attempted, and not a
    program check: a missing program is the student's to hand in) is left out.
    """
    uncallable = outcome == "not_attempted" and not has_program
    if uncallable and part_of(check_id) == REQUIRED and not counting.uncallable_costs:
        return UNCALLABLE
    return ""


@dataclass(frozen=True)
class PartScore:
    """One part's subtotal.

    ``raw_score`` / ``raw_max`` are the sums of its checks' points; ``score`` /
    ``max_score`` the same scaled to the plan's points for the part. ``attempted`` is
    false when every check of the part was not attempted; ``checks`` counts those that
    count in its maximum, ``excluded`` lists the checks left out of it.
    """

    id: str
    score: float
    max_score: float
    raw_score: float
    raw_max: float
    counted: bool
    attempted: bool
    checks: int
    passed: int
    excluded: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_parts(checks: Sequence[Scored], counting: Counting) -> list[PartScore]:
    """The subtotal of every part that has a check, in report order."""
    groups: dict[str, list[Scored]] = {}
    for check in checks:
        groups.setdefault(part_of(check.id), []).append(check)
    return [_part(part, groups[part], counting.counts(part, groups), counting.points.get(part))
            for part in sorted(groups, key=part_sort_key)]


def _part(part: str, checks: list[Scored], counted: bool, points: float | None) -> PartScore:
    raw_score = sum(c.score for c in checks)
    raw_max = sum(c.max_score for c in checks)
    if points is not None:
        # A part scaled to its points keeps them when checks leave its maximum.
        scale = points / raw_max if raw_max > 0 else 0.0
        score, max_score = raw_score * scale, points if raw_max > 0 else 0.0
    else:
        score, max_score = raw_score, raw_max
    return PartScore(
        id=part, score=round(score, 6), max_score=round(max_score, 6),
        raw_score=round(raw_score, 6), raw_max=round(raw_max, 6), counted=counted,
        attempted=any(c.outcome != "not_attempted" for c in checks),
        checks=sum(not c.excluded for c in checks),
        passed=sum(c.outcome == "passed" for c in checks),
        excluded=[c.id for c in checks if c.excluded],
    )


def headline(parts: Sequence[PartScore]) -> tuple[float, float]:
    """The total and its maximum: the sum of the counted parts."""
    counted = [p for p in parts if p.counted]
    return (round(sum(p.score for p in counted), 6), round(sum(p.max_score for p in counted), 6))
