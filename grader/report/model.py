"""The report's view of a results.json: every value already worded in the report language.

Templates only lay this out; all translation, number formatting and choosing of what
to show happens here, once, for both the Markdown and the HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.i18n import catalogue, render, tr
from grader.report.outcomes import DIAGNOSED, SYMBOLS, format_score, outcome_label
from grader.report.plots import Figure
from grader.report.records import ACCURACY_CHECK, checks_by_task, find_check, task_number
from grader.results import OUTCOMES, CheckResult

MISSING = "—"
MAX_FACT_CHARS = 120


@dataclass(frozen=True)
class Fact:
    """One labelled value (a header line, a detail, a row of a two-column table)."""

    label: str
    value: str


@dataclass(frozen=True)
class TextBlock:
    """Multi-line diagnostics (e.g. the tail of stderr), shown verbatim in a code block."""

    label: str
    text: str


@dataclass
class CheckRow:
    """One line of a task's check table, plus the diagnostics shown under it."""

    id: str
    outcome: str
    symbol: str
    label: str
    score: str
    message: str
    seconds: str
    reproduce: str
    facts: list[Fact] = field(default_factory=list)
    blocks: list[TextBlock] = field(default_factory=list)

    @property
    def has_details(self) -> bool:
        return bool(self.facts or self.blocks)


@dataclass
class NumberedFigure:
    """A figure with its number in the report ("図 2" / "Figure 2")."""

    figure: Figure
    number: str


@dataclass
class TaskSection:
    """One task's heading, check table, accuracy table and figures."""

    task: str
    heading: str
    checks: list[CheckRow]
    accuracy: list[Fact] = field(default_factory=list)
    figures: list[NumberedFigure] = field(default_factory=list)


@dataclass
class ReportView:
    """Everything the submission templates need."""

    lang: str
    header: list[Fact]
    reduced_isolation: bool
    public_plan: bool
    total: str
    counts: list[Fact]
    verdict: str
    tasks: list[TaskSection]
    figures: list[NumberedFigure]
    footer: str


def build_view(doc: dict[str, Any], figures: list[Figure], lang: str) -> ReportView:
    """Turn a results.json dict and its rendered figures into a :class:`ReportView`."""
    run = doc["extra_data"]
    grouped = checks_by_task(doc)
    checks = [c for _, group in grouped for c in group]
    tasks = [_task_section(task, group, lang) for task, group in grouped]
    unplaced = _place_figures(tasks, figures, lang)
    public = run["plan"].get("visibility") == "public"
    return ReportView(
        lang=lang,
        header=_header(run, lang),
        reduced_isolation=run["sandbox"].get("isolation") == "reduced",
        public_plan=public,
        total=tr(
            "report.summary.points",
            lang,
            score=format_score(doc["score"]),
            max_score=format_score(doc["max_score"]),
        ),
        counts=[
            Fact(outcome_label(o, lang), str(sum(c.outcome == o for c in checks))) for o in OUTCOMES
        ],
        verdict=_verdict(checks, public, lang),
        tasks=tasks,
        figures=unplaced,
        footer=tr("report.footer", lang, version=run["grader_version"]),
    )


def _known_word(key: str, raw: Any, lang: str) -> str:
    """Translate a recorded code word (``public``, ``reduced``) when the catalogue knows it."""
    return tr(key, lang) if key in catalogue() else str(raw)


def _header(run: dict[str, Any], lang: str) -> list[Fact]:
    submission, plan, sandbox, seeds = run["submission"], run["plan"], run["sandbox"], run["seeds"]
    sha = str(submission.get("sha256", ""))[:12]
    visibility = plan.get("visibility", MISSING)
    isolation = sandbox.get("isolation", MISSING)
    rows = [
        ("student", submission.get("student_id", MISSING)),
        ("submission", f"{submission.get('path', MISSING)} (sha256 {sha or MISSING})"),
        (
            "plan",
            tr(
                "report.header.plan_value",
                lang,
                name=plan.get("name", MISSING),
                visibility=_known_word(f"report.visibility.{visibility}", visibility, lang),
            ),
        ),
        ("grader_version", run["grader_version"]),
        ("date", run["started_at"]),
        ("duration", tr("report.unit.seconds", lang, value=f"{run['duration_s']:.1f}")),
        ("data", run["data"].get("source", MISSING)),
        (
            "sandbox",
            tr(
                "report.header.sandbox_value",
                lang,
                kind=sandbox.get("kind", MISSING),
                isolation=_known_word(f"report.isolation.{isolation}", isolation, lang),
            ),
        ),
        ("seeds", ", ".join(f"{k}={seeds[k]}" for k in sorted(seeds)) or MISSING),
    ]
    return [Fact(tr(f"report.header.{key}", lang), str(value)) for key, value in rows]


def _verdict(checks: list[CheckResult], public: bool, lang: str) -> str:
    passed = sum(c.passed for c in checks)
    if passed < len(checks) or not checks:
        key = "report.verdict.partial"
    else:
        # A public plan is only a self-check: never claim that everything passed.
        key = "report.verdict.public_passed" if public else "report.verdict.passed"
    return tr(key, lang, passed=passed, total=len(checks))


def _task_section(task: str, checks: list[CheckResult], lang: str) -> TaskSection:
    accuracy_check = find_check(checks, ACCURACY_CHECK)
    return TaskSection(
        task=task,
        heading=tr("report.task.heading", lang, name=task_number(task)),
        checks=[_check_row(c, lang) for c in checks],
        accuracy=_accuracy_table(accuracy_check.details, lang) if accuracy_check else [],
    )


def _check_row(check: CheckResult, lang: str) -> CheckRow:
    diagnosed = check.outcome in DIAGNOSED
    return CheckRow(
        id=check.id,
        outcome=check.outcome,
        symbol=SYMBOLS[check.outcome],
        label=outcome_label(check.outcome, lang),
        score=f"{format_score(check.score)} / {format_score(check.max_score)}",
        # The stored `output` is in the grading language; re-render for this report.
        message=render(check.message, lang),
        seconds=f"{check.seconds:.2f}",
        reproduce=check.reproduce,
        facts=_facts(check.details) if diagnosed else [],
        blocks=_text_blocks(check.details, lang) if diagnosed else [],
    )


def _is_text_block(key: str, value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(value.strip())
        and (key.endswith("_tail") or "\n" in value.strip())
    )


def _format_value(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return text if len(text) <= MAX_FACT_CHARS else text[: MAX_FACT_CHARS - 1] + "…"


def _facts(details: dict[str, Any]) -> list[Fact]:
    """Short scalar details; lists and tables are left to figures or omitted."""
    return [
        Fact(key, _format_value(value))
        for key, value in sorted(details.items())
        if isinstance(value, str | int | float | bool | None) and not _is_text_block(key, value)
    ]


def _text_blocks(details: dict[str, Any], lang: str) -> list[TextBlock]:
    return [
        TextBlock(_known_word(f"report.details.{key}", key, lang), value.rstrip())
        for key, value in sorted(details.items())
        if _is_text_block(key, value)
    ]


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def _accuracy_table(details: dict[str, Any], lang: str) -> list[Fact]:
    """Accuracy, its Wilson lower bound and the threshold, when the check recorded them."""
    needed = ("n", "correct", "accuracy", "wilson_lower", "threshold", "confidence")
    if not all(isinstance(details.get(k), int | float) for k in needed):
        return []
    above = details["wilson_lower"] >= details["threshold"]
    rows = [
        ("correct", f"{details['correct']} / {details['n']}"),
        ("accuracy", _percent(details["accuracy"])),
        ("wilson", _percent(details["wilson_lower"])),
        ("threshold", _percent(details["threshold"])),
        ("verdict", tr("report.accuracy.above" if above else "report.accuracy.below", lang)),
    ]
    confidence = f"{100 * details['confidence']:g}%"
    return [
        Fact(tr(f"report.accuracy.{key}", lang, confidence=confidence), value)
        for key, value in rows
    ]


def _place_figures(
    tasks: list[TaskSection], figures: list[Figure], lang: str
) -> list[NumberedFigure]:
    """Attach each figure to its task's section; return the ones that belong to no task.

    Figures are numbered in reading order: task sections first, then the rest.
    """
    sections = {t.task: t for t in tasks}
    position = {t.task: i for i, t in enumerate(tasks)}
    placed = sorted(figures, key=lambda f: position.get(f.task, len(tasks)))
    unplaced: list[NumberedFigure] = []
    for number, figure in enumerate(placed, start=1):
        numbered = NumberedFigure(figure, tr("report.figure.number", lang, n=number))
        section = sections.get(figure.task)
        (section.figures if section else unplaced).append(numbered)
    return unplaced
