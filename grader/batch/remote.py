"""Grading on a Dask cluster that shares no folder with the instructor's machine.

What crosses the network, and which way:

- **once per worker**: the data set, as a worker plugin (:class:`DataOnWorkers`): every
  worker, and each one that joins later, writes it once to its own local folder as IDX
  files, checked against the identity (sha256) the client computed;
- **client → worker, per submission**: a :class:`Parcel` — the submission's files (read
  here through :mod:`grader.safe_files`, within the caps of :mod:`grader.submission`),
  the plan's content (its TOML and check modules), the data's identity and the batch key;
- **worker → client, per submission**: a :class:`Returned` — the finished result folder
  (results.json, report.md, report.html, figures/) as bytes, and the progress summary.

The worker grades in a temporary folder of its own with :func:`grader.batch.run.grade_one`,
exactly as a local pool worker does, then records the client's paths (not its temporary
ones) in results.json and renders the reports again. The client writes what came back into
``OUT/.partial/`` and publishes it with :func:`grader.batch.run.publish`, so the resume
rules are those of the local pool.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import shutil
import socket
import sys
import tempfile
import tomllib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from distributed import WorkerPlugin

from grader import __version__, safe_files, submission
from grader.batch.errors import out_of_space
from grader.batch.executors import ClusterError, DaskExecutor
from grader.batch.run import PARTIAL, GradeTask, grade_one, publish
from grader.grade import data_kind
from grader.plan import Plan, PlanError
from grader.report import render_reports
from grader.results import ResultsError, read_results, write_json_atomic
from grader.sandbox import bwrap_status
from reference.data import Dataset
from reference.data.mnist import FILES, write_mnist

RESULT_FILE_LIMIT = 64 << 20  # a report with its figures embedded stays far below this
# The name plan.load imports a check module under; a worker keeps it between batches.
CHECK_MODULE_PREFIX = "le4nn_plan_checks_"

# In a worker process: plugin name → the folder its data set was written to.
_DATA_DIRS: dict[str, Path] = {}
# In a worker process: check module name → sha256 of the file it was imported from.
_MODULES: dict[str, str] = {}

Files = tuple[tuple[str, bytes], ...]


class WorkerMismatch(RuntimeError):
    """A worker that cannot grade like the client: another grader, stale check modules, no data."""


@dataclass(frozen=True)
class PlanFiles:
    """A plan's content: its TOML and the check modules it names, by relative path."""

    name: str  # the plan's file name: its default name is the file's stem
    text: bytes
    modules: Files
    shown: str  # the path results.json records: the client's

    @classmethod
    def read(cls, the_plan: Plan) -> PlanFiles:
        """The files of a plan that ``plan.load`` accepted (they are the instructor's)."""
        path = Path(the_plan.path)
        text = path.read_bytes()
        names = tomllib.loads(text.decode("utf-8"))["plan"].get("check_modules", [])
        modules = []
        for name in names:
            rel = PurePosixPath(name)
            if rel.is_absolute() or ".." in rel.parts:
                raise PlanError(f"{path}: check module {name!r} lies outside the plan's "
                                "folder; on a Dask cluster only the files beside the plan "
                                "travel — move it next to the plan")
            modules.append((rel.as_posix(), (path.parent / rel).read_bytes()))
        return cls(path.name, text, tuple(modules), the_plan.path)

    def write(self, folder: Path) -> Path:
        """Lay the plan out in ``folder``; returns the path to load it from."""
        for rel, data in ((self.name, self.text), *self.modules):
            _write_inside(folder, rel, data)
        return folder / self.name

    def stale_modules(self) -> list[str]:
        """The check modules this process imported earlier from other content."""
        stale = []
        for rel, data in self.modules:
            module = CHECK_MODULE_PREFIX + PurePosixPath(rel).stem
            if module in sys.modules and _MODULES.get(module) != _sha(data):
                stale.append(rel)
        return stale

    def remember_modules(self) -> None:
        for rel, data in self.modules:
            _MODULES.setdefault(CHECK_MODULE_PREFIX + PurePosixPath(rel).stem, _sha(data))


@dataclass(frozen=True)
class Parcel:
    """What travels to a worker to grade one submission (the client's task, as is)."""

    task: GradeTask
    files: Files | None  # None: nothing to grade (``task.problem`` says why)
    shown_path: str  # the submission's path as results.json records it: the client's
    plan: PlanFiles
    data_plugin: str
    data_id: str
    data_source: str
    grader_version: str


@dataclass(frozen=True)
class Returned:
    """What comes back: the progress summary and the whole result folder."""

    summary: dict[str, Any]
    files: Files


def data_id(dataset: Dataset) -> str:
    """sha256 over the four arrays (dtype, shape, bytes): the data's identity."""
    h = hashlib.sha256()
    for key in FILES:
        array = getattr(dataset, key)
        h.update(f"{key}:{array.dtype.str}:{array.shape}\0".encode())
        h.update(array.tobytes())
    return h.hexdigest()


class DataOnWorkers(WorkerPlugin):
    """Writes the batch's data set once into each worker's local folder.

    The scheduler keeps the plugin and sets it up on every worker that joins, so a
    worker started in place of a lost one gets the data too.
    """

    def __init__(self, dataset: Dataset, ident: str, name: str) -> None:
        self.dataset, self.ident, self.name = dataset, ident, name

    def setup(self, worker: Any) -> None:
        folder = Path(worker.local_directory) / self.name
        if data_id(self.dataset) != self.ident:
            raise WorkerMismatch(f"{worker.address}: the data set arrived changed "
                                 "(its sha256 differs)")
        tmp = Path(tempfile.mkdtemp(prefix=".le4nn-data-", dir=folder.parent))
        write_mnist(tmp, self.dataset)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        _DATA_DIRS[self.name] = folder
        self.dataset = None  # the worker keeps the files, not a second copy in memory

    def teardown(self, worker: Any) -> None:
        folder = _DATA_DIRS.pop(self.name, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


class Courier:
    """The client's side: packs each task into a parcel and publishes what comes back."""

    def __init__(self, the_plan: Plan, dataset: Dataset) -> None:
        self.plan = PlanFiles.read(the_plan)
        self.data_id, self.data_source = data_id(dataset), dataset.source
        self.data_plugin = f"le4nn-data-{uuid.uuid4().hex}"

    def pack(self, task: GradeTask) -> Parcel:
        files, problem, shown = None, task.problem, ""
        if task.folder and not problem:
            folder = Path(task.folder)
            shown = str(folder.resolve())
            try:
                files = read_submission(folder)
            except submission.SubmissionError as e:
                problem = str(e)
            except OSError as e:  # safe_files.UnsafeFile, or a file gone since discovery
                problem = f"{folder}: {e}"
        return Parcel(replace(task, problem=problem), files, shown, self.plan,
                      self.data_plugin, self.data_id, self.data_source, __version__)

    def receive(self, task: GradeTask, answer: Returned) -> dict[str, Any]:
        """Write the returned result folder into OUT and publish it whole.

        Raises ResultsError when what came back is not a whole result (nothing is
        published then); OSError when OUT cannot be written (a full disk stops the batch).
        """
        out = Path(task.out_root)
        partial = out / PARTIAL / f"{task.student_id}-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        for rel, data in answer.files:
            _write_inside(partial, rel, data)
        read_results(partial / "results.json")
        publish(partial, out / task.student_id)
        return answer.summary


def read_submission(folder: Path) -> Files:
    """The files of a submission, as the local pool would copy them, within its caps.

    Raises SubmissionError (too many files, too large) or safe_files.UnsafeFile.
    """
    sub = submission.load(folder)
    files, total = [], 0
    for rel in sub.files:
        data = safe_files.read_bytes(folder, rel.as_posix(),
                                     limit=max(0, submission.MAX_BYTES - total))
        total += len(data)
        files.append((rel.as_posix(), data))
    return tuple(files)


def grade_on_cluster(executor: DaskExecutor, tasks: Sequence[GradeTask], the_plan: Plan,
                     dataset: Dataset, note: Callable[[str], None],
                     allow_reduced: bool = False) -> Iterator[tuple[GradeTask, Any]]:
    """Grade ``tasks`` on the cluster; yields ``(task, summary or exception)`` as each
    result is published in OUT. Checks the workers first (:func:`check_workers`)."""
    courier = Courier(the_plan, dataset)
    executor.wait_for_workers()
    for line in check_workers(executor, courier.plan, allow_reduced):
        note(line)
    executor.install(DataOnWorkers(dataset, courier.data_id, courier.data_plugin),
                     courier.data_plugin)
    try:
        for task, answer in executor.run(grade_parcel, tasks, pack=courier.pack):
            if isinstance(answer, Returned):
                try:
                    answer = courier.receive(task, answer)
                except ResultsError as e:
                    answer = e
            yield task, answer
    finally:
        executor.uninstall(courier.data_plugin)


def check_workers(executor: DaskExecutor, plan_files: PlanFiles,
                  allow_reduced: bool = False) -> list[str]:
    """Refuse a cluster whose workers cannot grade like this client, or that would grade
    with reduced isolation (no working bubblewrap there) unless ``allow_reduced``; returns
    a line for each worker allowed to grade with reduced isolation."""
    facts = executor.on_workers(functools.partial(worker_facts, plan_files))
    problems, notes = [], []
    for address, f in sorted(facts.items()):
        if f["version"] != __version__:
            problems.append(f"{address} ({f['host']}) runs grader {f['version']}, this "
                            f"machine {__version__}")
        if f["stale"]:
            problems.append(f"{address} ({f['host']}) imported other versions of the check "
                            f"modules {', '.join(f['stale'])} in an earlier batch")
        if not f["bwrap"][0] and allow_reduced:
            notes.append(f"worker {address} ({f['host']}): reduced isolation — {f['bwrap'][1]}")
        elif not f["bwrap"][0]:
            problems.append(f"{address} ({f['host']}) would grade with reduced isolation "
                            f"({f['bwrap'][1]}; apt-get install bubblewrap there, or pass "
                            "--allow-reduced-isolation to accept the risk)")
    if problems:
        raise ClusterError("the Dask workers cannot grade this batch: " + "; ".join(problems)
                           + " — install the same grader everywhere and restart the workers")
    return notes


def worker_facts(plan_files: PlanFiles) -> dict[str, Any]:
    """Runs on a worker (a module-level function: the worker's own code answers)."""
    return {"version": __version__, "host": socket.gethostname(),
            "bwrap": list(bwrap_status()), "stale": plan_files.stale_modules()}


def grade_parcel(parcel: Parcel) -> Returned:
    """Runs on a worker: grade one parcel in a temporary folder, return the result folder."""
    data_dir = _usable_here(parcel)
    with tempfile.TemporaryDirectory(prefix="le4nn-remote-") as tmp:
        root = Path(tmp)
        task = _local_task(parcel, root, data_dir)
        try:
            summary = grade_one(task)
        except OSError as e:
            if out_of_space(e):  # the worker's disk: say which machine
                raise OSError(e.errno, e.strerror,
                              f"{socket.gethostname()}:{e.filename or tmp}") from None
            raise
        final = Path(task.out_root) / task.student_id
        _record_client_paths(final, parcel, task)
        return Returned(summary, _files_of(final))


def _usable_here(parcel: Parcel) -> Path:
    """The data folder, once this worker is known to grade like the client."""
    host = socket.gethostname()
    if parcel.grader_version != __version__:
        raise WorkerMismatch(f"worker {host} runs grader {__version__}, the client "
                             f"{parcel.grader_version} — install the same version everywhere")
    stale = parcel.plan.stale_modules()
    if stale:
        raise WorkerMismatch(f"worker {host} imported other versions of {', '.join(stale)} "
                             "in an earlier batch — restart the Dask workers")
    data_dir = _DATA_DIRS.get(parcel.data_plugin)
    if data_dir is None:
        raise WorkerMismatch(f"worker {host} has not received the data set "
                             f"{parcel.data_id[:12]} — is it running an older grader?")
    return data_dir


def _local_task(parcel: Parcel, root: Path, data_dir: Path) -> GradeTask:
    folder = ""
    if parcel.files is not None:
        # The client folder's own name: a submission's id defaults to it.
        target = root / "submission" / (Path(parcel.task.folder).name or "submission")
        target.mkdir(parents=True)
        for rel, data in parcel.files:
            _write_inside(target, rel, data)
        folder = str(target)
    plan_path = parcel.plan.write(root / "plan")
    parcel.plan.remember_modules()
    return replace(parcel.task, folder=folder, out_root=str(root / "out"),
                   plan=str(plan_path), data_dir=str(data_dir))


def _record_client_paths(final: Path, parcel: Parcel, here: GradeTask) -> None:
    """results.json names the client's submission, plan and data, not the worker's
    temporary copies (``here``: the task as graded on this worker), in its records and in
    the commands that reproduce a check; the reports are rendered again from it."""
    doc = read_results(final / "results.json")
    _client_commands(doc, parcel, here)
    _client_sources(doc["extra_data"], parcel)
    write_json_atomic(final / "results.json", doc)
    if (final / "report.html").exists():
        render_reports(doc, final, parcel.task.lang)


def _client_commands(doc: dict[str, Any], parcel: Parcel, here: GradeTask) -> None:
    """The commands that reproduce a check, with the client's plan and data paths."""
    swaps = {_option("--plan", here.plan): _option("--plan", parcel.task.plan),
             _option("--data-dir", here.data_dir): _option("--data-dir", parcel.task.data_dir)}
    for test in doc.get("tests", []):
        command = test.get("extra_data", {}).get("reproduce")
        if isinstance(command, str):
            for worker, client in swaps.items():
                command = command.replace(worker, client) if worker else command
            test["extra_data"]["reproduce"] = command


def _client_sources(extra: dict[str, Any], parcel: Parcel) -> None:
    """Where the submission, plan and data came from, as the client named them."""
    extra["batch"].update(source=parcel.task.folder, host=socket.gethostname())
    if "path" in extra.get("submission", {}):
        extra["submission"]["path"] = parcel.shown_path
    if "plan" in extra:
        extra["plan"]["path"] = parcel.plan.shown
    if "data" in extra:
        # The worker read a copy of the data the client sent (a folder of IDX files).
        extra["data"].update(source=parcel.data_source, kind=data_kind(parcel.data_source))


def _option(name: str, path: str | None) -> str:
    """`` --name PATH`` as :mod:`grader.checks.reproduce` writes it; "" without a path."""
    return f" {name} {shlex.quote(str(Path(path).resolve()))}" if path else ""


def _files_of(folder: Path) -> Files:
    tree = safe_files.walk(folder)
    return tuple((rel.as_posix(), safe_files.read_bytes(folder, rel, RESULT_FILE_LIMIT))
                 for rel in tree.files)


def _write_inside(folder: Path, rel: str, data: bytes) -> None:
    """Write ``folder/rel``; a path that would leave ``folder`` is refused."""
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
        raise ResultsError(f"{rel!r}: not a path inside {folder}")
    target = folder.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
