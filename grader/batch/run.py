"""The batch loop: grade every submission once, publish each result atomically, report.

Each student's results live in ``OUT/<student_id>/`` (results.json, report.md,
report.html). They are written to ``OUT/.partial/`` first and renamed into place when
complete, so a killed batch leaves either a whole result or none. ``results.json``
records a key over the submission's content, the plan, the data and the grader version;
a re-run skips every student whose key is unchanged, so it grades nothing twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from grader import __version__, plan, submission
from grader.batch.discover import Entry, discover
from grader.batch.errors import BatchAborted, out_of_space
from grader.batch.executors import DaskExecutor, Executor, make_executor
from grader.batch.junit import write_junit
from grader.batch.progress import EventLog, Progress
from grader.batch.similarity_pass import SIMILARITY_FILE, class_similarity, write_similarity
from grader.grade import grade, known_checks
from grader.results import SCHEMA, ResultsError, read_results, write_json_atomic
from grader.safe_files import UnsafeFile, chunks
from grader.sandbox import bwrap_status
from grader.sandbox.reduced import SandboxRefused
from reference.data import DataError, Dataset, load_mnist

PARTIAL = ".partial"
STAGING = ".staging"
OLD_PREFIX = ".old-"


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker process needs to grade one student (picklable)."""

    student_id: str
    folder: str
    problem: str  # why the submission could not even be staged ("" when it could)
    out_root: str
    key: str
    plan: str | None
    data_dir: str | None
    lang: str
    use_bwrap: bool | None


@dataclass
class BatchSummary:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # Submissions that could not be graded at all (unsafe archive, too deep, …): the reason.
    not_graded: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def safe_id(name: str) -> str:
    """A student id usable as a folder name: no separators, no leading dot."""
    cleaned = re.sub(r"[^\w.\-]", "_", name).lstrip(".")
    return cleaned or "unnamed"


def batch_key(content_sha: str, plan_sha: str, data_source: str, lang: str) -> str:
    text = "|".join([content_sha, plan_sha, data_source, lang, __version__])
    return hashlib.sha256(text.encode()).hexdigest()


def grade_one(task: GradeTask) -> dict[str, Any]:
    """Grade one submission into a private folder, stamp it, then publish it whole."""
    start = time.perf_counter()
    partial = Path(task.out_root) / PARTIAL / f"{task.student_id}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        if task.problem:
            raise submission.SubmissionError(task.problem)
        doc = grade(Path(task.folder), partial, plan_path=_path(task.plan),
                    data_dir=_path(task.data_dir), lang=task.lang, jobs=1,
                    use_bwrap=task.use_bwrap)
    except (submission.SubmissionError, DataError, OSError) as e:
        if out_of_space(e):
            raise
        doc = error_results(task.student_id, str(e))
    doc["extra_data"]["submission"]["student_id"] = task.student_id
    doc["extra_data"]["batch"] = {"key": task.key, "source": task.folder}
    write_json_atomic(partial / "results.json", doc)
    publish(partial, Path(task.out_root) / task.student_id)
    return {"score": doc["score"], "max_score": doc["max_score"],
            "error": doc["extra_data"].get("error", ""),
            "seconds": round(time.perf_counter() - start, 2)}


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def error_results(student_id: str, message: str) -> dict[str, Any]:
    """The results of a submission that could not be graded at all (e.g. unpackable)."""
    return {"score": 0.0, "max_score": 0.0, "tests": [],
            "extra_data": {"schema": SCHEMA, "error": message,
                           "submission": {"student_id": student_id}}}


def publish(partial: Path, final: Path) -> None:
    """Move a finished result folder into place; the old one, if any, goes only after."""
    old = final.with_name(f"{OLD_PREFIX}{final.name}-{os.getpid()}")
    if final.exists():
        final.rename(old)
    partial.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def recover(out: Path) -> None:
    """Undo what a killed batch left half done: a result moved aside by :func:`publish`
    whose replacement never arrived goes back into place; other leftovers go."""
    shutil.rmtree(out / PARTIAL, ignore_errors=True)
    for old in out.glob(f"{OLD_PREFIX}*"):
        final = out / old.name.removeprefix(OLD_PREFIX).rpartition("-")[0]
        if final.exists() or not final.name:
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(final)


def current_key(result_dir: Path) -> str | None:
    try:
        return read_results(result_dir / "results.json")["extra_data"].get("batch", {}).get("key")
    except (ResultsError, KeyError, TypeError):
        return None


def run_batch(
    submissions_dir: Path,
    out: Path,
    *,
    plan_path: Path | None = None,
    data_dir: Path | None = None,
    jobs: int = 2,
    scheduler: str | None = None,
    lang: str = "ja",
    use_bwrap: bool | None = None,
    junit: bool = False,
    skeleton: Path | None = None,
    quoted: list[Path] | None = None,
    similarity_threshold: float = 0.5,
    stream: TextIO = sys.stderr,
    allow_reduced_isolation: bool = False,
) -> BatchSummary:
    """Grade every submission of ``submissions_dir`` into ``out`` (see the module docstring).

    Raises SandboxRefused when bubblewrap is off or unavailable here (with ``scheduler``:
    on a worker, once the workers are checked), unless ``allow_reduced_isolation``: a
    class's code would run with reduced isolation.
    """
    if not allow_reduced_isolation:
        _refuse_reduced_isolation(use_bwrap, scheduler)
    summary, start = BatchSummary(), time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    the_plan = plan.load(plan_path, known_checks)
    dataset = load_mnist(data_dir)
    source = dataset.source
    with _stopped_by_full_disk(out), EventLog(out / "events.jsonl") as log:
        recover(out)
        tasks, all_tasks = _plan_tasks(submissions_dir, out, summary, the_plan.sha256, source,
                                       plan_path, data_dir, lang, use_bwrap)
        for student in summary.skipped:
            log.write("skip", student=student)
        log.write("start", total=len(tasks), skipped=len(summary.skipped), jobs=jobs,
                  scheduler=scheduler or "local")
        progress = Progress(len(tasks), stream)
        executor = make_executor(jobs, scheduler, _retry_note(log, progress))
        graded = _graded(executor, tasks, the_plan, dataset, progress, allow_reduced_isolation)
        _grade_all(graded, out, executor, summary, log, progress)
        folders = {t.student_id: Path(t.folder) for t in all_tasks if t.folder}
        pairs = class_similarity(folders, skeleton, quoted, similarity_threshold)
        write_similarity(out / SIMILARITY_FILE, pairs)
        log.write("similarity", pairs=len(pairs))
        summary.seconds = time.perf_counter() - start
        log.write("end", graded=len(summary.graded), skipped=len(summary.skipped),
                  failed=len(summary.failed), not_graded=len(summary.not_graded),
                  seconds=round(summary.seconds, 2))
        if junit:
            write_junit(out, out / "junit.xml")
    return summary


@contextlib.contextmanager
def _stopped_by_full_disk(out: Path) -> Iterator[None]:
    try:
        yield
    except OSError as e:
        if not out_of_space(e):
            raise
        # A worker's full disk names its machine (grader.batch.remote).
        raise BatchAborted(f"{e.filename or out}: no space left on the device ({e.strerror}); "
                           "the results finished so far are kept — free some space and run "
                           "the same command again") from None


def _grade_all(graded: Iterator[tuple[GradeTask, Any]], out: Path, executor: Executor,
               summary: BatchSummary, log: EventLog, progress: Progress) -> None:
    try:
        for task, result in graded:
            _record(task, result, summary, log, progress)
    finally:
        executor.close()
        shutil.rmtree(out / PARTIAL, ignore_errors=True)


def _refuse_reduced_isolation(use_bwrap: bool | None, scheduler: str | None) -> None:
    """SandboxRefused where the student code of this batch would run with reduced isolation
    on this machine; a cluster's workers are checked when they are found."""
    if use_bwrap is False:
        raise SandboxRefused("disabled (--no-bwrap)")
    works, why = bwrap_status()
    if scheduler is None and not works:
        raise SandboxRefused(why)


def _graded(executor: Executor, tasks: list[GradeTask], the_plan: plan.Plan,
            dataset: Dataset, progress: Progress,
            allow_reduced: bool) -> Iterator[tuple[GradeTask, Any]]:
    """(task, summary or exception) as each submission is published: a pool worker
    publishes its own; a Dask worker sends its result folder back to be published here."""
    if not isinstance(executor, DaskExecutor):
        return executor.run(grade_one, tasks)
    from grader.batch import remote  # it builds on grade_one: imported here, not at the top

    return remote.grade_on_cluster(executor, tasks, the_plan, dataset, progress.note,
                                   allow_reduced)


def _retry_note(log: EventLog, progress: Progress) -> Callable[[GradeTask], None]:
    def note(task: GradeTask) -> None:
        log.write("retry", student=task.student_id)
        progress.note(f"{task.student_id}: the grading process died; grading it again")
    return note


def _plan_tasks(submissions_dir: Path, out: Path, summary: BatchSummary, plan_sha: str,
                source: str, plan_path: Path | None, data_dir: Path | None, lang: str,
                use_bwrap: bool | None) -> tuple[list[GradeTask], list[GradeTask]]:
    """(the tasks to grade, all tasks): students whose key is unchanged are skipped."""
    tasks, all_tasks = [], []
    for entry in _unique_ids(discover(submissions_dir, out / STAGING)):
        task = _task(entry, out, plan_sha, source, plan_path, data_dir, lang, use_bwrap)
        all_tasks.append(task)
        if current_key(out / task.student_id) == task.key:
            summary.skipped.append(task.student_id)
        else:
            tasks.append(task)
    return tasks, all_tasks


def _unique_ids(entries: list[Entry]) -> list[Entry]:
    seen: dict[str, int] = {}
    unique = []
    for e in entries:
        base = safe_id(e.student_id)
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}-{seen[base]}"
        unique.append(Entry(name, e.source, e.folder, e.problem))
    return unique


def _task(entry: Entry, out: Path, plan_sha: str, source: str, plan_path: Path | None,
          data_dir: Path | None, lang: str, use_bwrap: bool | None) -> GradeTask:
    try:
        content = submission.load(entry.folder).sha256 if entry.folder else _source_hash(entry)
    except Exception as e:  # grading says why; one submission must not stop the class
        content = hashlib.sha256(f"{type(e).__name__}: {e}".encode()).hexdigest()
    return GradeTask(entry.student_id, str(entry.folder or ""), entry.problem, str(out),
                     batch_key(content, plan_sha, source, lang),
                     str(plan_path) if plan_path else None,
                     str(data_dir) if data_dir else None, lang, use_bwrap)


def _source_hash(entry: Entry) -> str:
    """The hash of a submission that could not be staged: its bytes when it is a file the
    grader may read, else its name and the reason (a link is not followed to hash it)."""
    h = hashlib.sha256(f"{entry.source.name}\0{entry.problem}".encode())
    with contextlib.suppress(UnsafeFile):
        for chunk in chunks(entry.source.parent, entry.source.name, submission.MAX_BYTES):
            h.update(chunk)
    return h.hexdigest()


def _record(task: GradeTask, result: Any, summary: BatchSummary, log: EventLog,
            progress: Progress) -> None:
    if out_of_space(result):
        raise result
    if isinstance(result, BaseException):
        message = f"{type(result).__name__}: {result}"
        summary.failed[task.student_id] = message
        log.write("error", student=task.student_id, error=message)
        progress.advance(task.student_id, f"error: {message[:60]}")
        return
    if result["error"]:
        summary.not_graded[task.student_id] = result["error"]
    else:
        summary.graded.append(task.student_id)
    log.write("done", student=task.student_id, **result)
    status = result["error"][:60] or f"{result['score']:g} / {result['max_score']:g}"
    progress.advance(task.student_id, status)
