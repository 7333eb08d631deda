"""The report's view of a results.json: every value already worded in the report language.

Templates only lay this out; all translation, number formatting and choosing of what
to show happens here, once, for both the Markdown and the HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.i18n import catalogue, is_message, render, tr
from grader.report.outcomes import DIAGNOSED, SYMBOLS, format_score, outcome_label
from grader.report.parts import (
    headline_note,
    judged,
    missing_note,
    part_name,
    parts_table,
    summary_notes,
)
from grader.report.plots import Figure
from grader.report.records import ACCURACY_CHECK, checks_by_task, find_check, task_number
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
from grader.results import OUTCOMES, SCORED_AS_PASSED, CheckResult, Message, parts_from_json
from grader.scoring import part_of

MAX_FACT_CHARS = 120


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
    section: str
    part: str
    facts: list[Fact] = field(default_factory=list)
    blocks: list[TextBlock] = field(default_factory=list)

    @property
    def has_details(self) -> bool:
        return bool(self.facts or self.blocks)

    @property
    def anchor(self) -> str:
        """The HTML id of the check's row, linked from "what to fix first"."""
        return f"check-{self.id}"

    @property
    def needs_fixing(self) -> bool:
        return self.outcome in DIAGNOSED


@dataclass
class TaskSection:
    """One task's heading, check table, accuracy table and figures."""

    task: str
    heading: str
    checks: list[CheckRow]
    accuracy: Table | None = None
    gradients: list[tuple[str, Table]] = field(default_factory=list)
    figures: list[NumberedFigure] = field(default_factory=list)


@dataclass
class ReportView:
    """Everything the submission templates need."""

    lang: str
    student: Fact
    setup: list[Fact]
    reduced_isolation: bool
    public_plan: bool
    total: str
    total_note: str
    parts: Table
    notes: list[str]
    counts: Table
    verdict: str
    fix_first: list[CheckRow]
    missing: Fact | None
    tasks: list[TaskSection]
    figures: list[NumberedFigure]
    footer: str


def build_view(doc: dict[str, Any], figures: list[Figure], lang: str) -> ReportView:
    """Turn a results.json dict and its rendered figures into a :class:`ReportView`."""
    run = doc["extra_data"]
    grouped = checks_by_task(doc)
    checks = [c for _, group in grouped for c in group]
    parts = parts_from_json(doc)
    tasks = [_task_section(task, group, lang) for task, group in grouped]
    unplaced = _place_figures(tasks, figures, lang)
    public = run["plan"].get("visibility") == "public"
    return ReportView(
        lang=lang,
        student=Fact(
            tr("report.header.student", lang), str(run["submission"].get("student_id", MISSING))
        ),
        setup=_setup(run, lang),
        reduced_isolation=run["sandbox"].get("isolation") == "reduced",
        public_plan=public,
        total=tr(
            "report.summary.points",
            lang,
            score=format_score(doc["score"]),
            max_score=format_score(doc["max_score"]),
        ),
        total_note=headline_note(parts, lang),
        parts=parts_table(parts, lang),
        notes=summary_notes(checks, lang),
        counts=_counts(checks, lang),
        verdict=_verdict(judged(checks, parts), public, lang),
        # Report order: later tasks build on earlier ones (task 4 loads task 3's parameters).
        # A part not attempted has nothing here: its checks are all "not attempted".
        fix_first=[row for task in tasks for row in task.checks if row.needs_fixing],
        missing=missing_note(checks, parts, lang),
        tasks=tasks,
        figures=unplaced,
        footer=tr("report.footer", lang, version=run["grader_version"]),
    )


def _known_word(key: str, raw: Any, lang: str) -> str:
    """Translate a recorded code word (``public``, ``reduced``) when the catalogue knows it."""
    return tr(key, lang) if key in catalogue() else str(raw)


def _setup(run: dict[str, Any], lang: str) -> list[Fact]:
    """How the submission was graded: what, with which plan, data, sandbox and seeds."""
    submission, plan, sandbox, seeds = run["submission"], run["plan"], run["sandbox"], run["seeds"]
    sha = str(submission.get("sha256", ""))[:12]
    visibility = plan.get("visibility", MISSING)
    isolation = sandbox.get("isolation", MISSING)
    rows = [
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
        ("data", _data(run["data"], lang)),
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


def _data(data: dict[str, Any], lang: str) -> str:
    """The data set in words: which kind and how many images (the source as recorded else)."""
    kind, n_train, n_test = data.get("kind"), data.get("n_train"), data.get("n_test")
    if kind not in ("embedded", "idx") or not all(isinstance(n, int) for n in (n_train, n_test)):
        return str(data.get("source", MISSING))
    return tr(f"report.data.{kind}", lang, n_train=f"{n_train:,}", n_test=f"{n_test:,}")


def _counts(checks: list[CheckResult], lang: str) -> Table:
    """One row: how many checks ended with each outcome."""
    counts = [str(sum(c.outcome == o for c in checks)) for o in OUTCOMES]
    return Table(
        css="counts",
        head=(tr("report.col.outcome", lang), *(outcome_label(o, lang) for o in OUTCOMES)),
        rows=(text_row(tr("report.summary.count", lang), *counts),),
        numeric=(False, *(True for _ in OUTCOMES)),
    )


def _verdict(checks: list[CheckResult], public: bool, lang: str) -> str:
    """How many of the checks that judge the work passed (see :func:`parts.judged`);
    an unverified check is scored as passed, and counted so here too."""
    passed = sum(c.outcome in SCORED_AS_PASSED for c in checks)
    if passed < len(checks) or not checks:
        key = "report.verdict.partial"
    else:
        # A public plan is only a self-check: never claim that everything passed.
        key = "report.verdict.public_passed" if public else "report.verdict.passed"
    return tr(key, lang, passed=passed, total=len(checks))


def _task_section(task: str, checks: list[CheckResult], lang: str) -> TaskSection:
    accuracy_check = find_check(checks, ACCURACY_CHECK)
    # A group that is not a course task (e.g. "code") may have a title of its own.
    heading = _task_heading(task, lang)
    return TaskSection(
        task=task,
        heading=heading,
        checks=[_check_row(c, heading, lang) for c in checks],
        accuracy=_accuracy_table(accuracy_check.details, lang) if accuracy_check else None,
        gradients=[(c.id, _worst_table(c.details["worst"], lang)) for c in checks
                   if c.outcome in DIAGNOSED and c.details.get("worst")],
    )


def _task_heading(task: str, lang: str) -> str:
    """課題 1 … 課題 4; a task that is a part of its own (A1, B2) by the part's name."""
    own = f"report.task.{task}"
    if own in catalogue():  # a group that is not a course task (e.g. "code")
        return tr(own, lang)
    if part_of(task) == task:
        return part_name(task, lang)
    return tr("report.task.heading", lang, name=task_number(task))


def _worst_table(worst: list[dict[str, Any]], lang: str) -> Table:
    """The coordinates where a gradient check found the largest errors."""
    head = tuple(tr(f"report.grad.{key}", lang)
                 for key in ("tensor", "index", "analytic", "numeric", "abs_error"))
    rows = tuple(
        (Cell(str(w["tensor"])), Cell(str(w["index"]), code=True),
         *(Cell(f"{float(w[k]):.6g}") for k in ("analytic", "numeric", "abs_error")))
        for w in worst
    )
    return Table(css="gradients", head=head, rows=rows,
                 numeric=(False, False, True, True, True))


def _check_row(check: CheckResult, section: str, lang: str) -> CheckRow:
    diagnosed = check.outcome in DIAGNOSED
    score = (tr("report.score.excluded", lang) if check.excluded
             else f"{format_score(check.score)} / {format_score(check.max_score)}")
    return CheckRow(
        id=check.id,
        outcome=check.outcome,
        symbol=SYMBOLS[check.outcome],
        label=outcome_label(check.outcome, lang),
        score=score,
        # The stored `output` is in the grading language; re-render for this report.
        message=render(check.message, lang),
        seconds=f"{check.seconds:.2f}",
        # A command reproduces a failure; a check that did not fail has none to show.
        reproduce=check.reproduce if diagnosed else "",
        section=section,
        part=check.part,
        facts=_facts(check.details, lang) if diagnosed else [],
        blocks=_text_blocks(check.details, lang) if diagnosed else [],
    )


def _label(key: str, lang: str) -> str | None:
    """A details key in words, or None for a key the catalogue does not label (internal)."""
    own = f"report.details.{key}"
    return tr(own, lang) if own in catalogue() else None


def _is_text_block(key: str, value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(value.strip())
        and (key.endswith("_tail") or "\n" in value.strip())
    )


def _format_value(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        text = tr("report.details.yes" if value else "report.details.no", lang)
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif is_message(value):
        text = render(Message(value["key"], value.get("params", {})), lang)
    else:
        # A one-line stdout keeps its line end, which would show as a stray line break.
        text = str(value).rstrip("\r\n")
    if not text.strip():
        # e.g. an empty stderr: say so rather than show nothing after the label.
        return tr("report.details.empty", lang)
    return text if len(text) <= MAX_FACT_CHARS else text[: MAX_FACT_CHARS - 1] + "…"


def _facts(details: dict[str, Any], lang: str) -> list[Fact]:
    """Short labelled details (scalars and worded messages); lists and tables are left to
    figures or omitted, keys without a label are internal and not shown."""
    return [
        Fact(label, _format_value(value, lang))
        for key, value in sorted(details.items())
        if (label := _label(key, lang)) is not None
        and (isinstance(value, str | int | float | bool | None) or is_message(value))
        and not _is_text_block(key, value)
    ]


def _text_blocks(details: dict[str, Any], lang: str) -> list[TextBlock]:
    return [
        TextBlock(label, value.rstrip())
        for key, value in sorted(details.items())
        if _is_text_block(key, value) and (label := _label(key, lang)) is not None
    ]


def _accuracy_table(details: dict[str, Any], lang: str) -> Table | None:
    """Accuracy, its lower confidence bound and the threshold, when the check recorded them.

    The bound is a sequential test's (``lower_bound``, task 4) or a Wilson bound.
    """
    bound = "lower_bound" if "lower_bound" in details else "wilson_lower"
    needed = ("n", "correct", "accuracy", bound, "threshold", "confidence")
    if not all(isinstance(details.get(k), int | float) for k in needed):
        return None
    above = details[bound] >= details["threshold"]
    rows = [
        ("correct", f"{details['correct']} / {details['n']}"),
        ("accuracy", percent(details["accuracy"])),
        ("sequential" if bound == "lower_bound" else "wilson", percent(details[bound])),
        ("threshold", percent(details["threshold"])),
        ("verdict", tr("report.accuracy.above" if above else "report.accuracy.below", lang)),
    ]
    confidence = f"{100 * details['confidence']:g}%"
    facts = [
        Fact(tr(f"report.accuracy.{key}", lang, confidence=confidence), value)
        for key, value in rows
    ]
    return facts_table(
        "accuracy", facts, tr("report.accuracy.item", lang), tr("report.accuracy.value", lang)
    )


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
    for numbered in number_figures(placed, lang):
        section = sections.get(numbered.figure.task)
        (section.figures if section else unplaced).append(numbered)
    return unplaced
