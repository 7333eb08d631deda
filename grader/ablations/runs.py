"""One run: a setup, a seed and a data regime, trained by the reference or by a submission.

Both trainers are child processes that read the same request (:mod:`.network`) and
answer in the same JSON lines, so one parser serves both:

- reference: ``python -m grader.ablations.reference_run`` with the sandbox's limits and
  environment (one BLAS thread), without bubblewrap: it is our own code;
- submission: ``grader/sandbox/inside/ablation_worker.py`` inside the sandbox, in a fresh
  copy of the submission, building the network from the student's own layer and optimizer classes.

A run is cached (:mod:`.store`) under a hash of its setup, seed, data, trainer and code
version, so changing any of them runs it again and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import grader
import reference
from grader import submission
from grader.ablations import network, store
from grader.ablations.data import RegimeData
from grader.ablations.store import RunOutcome
from grader.ablations.sweep import Setup
from grader.sandbox import Limits, RunResult, Sandbox
from grader.sandbox.inside import ablation_worker, protocol

REFERENCE = "reference"
REFERENCE_RUNNER = "grader.ablations.reference_run"
# Generous: the slowest default run takes seconds; full MNIST with a student's slow
# layers may take minutes. Output is a few hundred bytes per epoch.
LIMITS = Limits(wall_s=3600.0, cpu_s=7200, output_bytes=4 << 20)
PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Source:
    """Whose layers and optimizers are trained: the reference library or a submission."""

    name: str
    submission: submission.Submission | None = None
    use_bwrap: bool | None = None

    @classmethod
    def reference(cls) -> Source:
        return cls(REFERENCE)

    @classmethod
    def of_submission(cls, sub: submission.Submission, use_bwrap: bool | None) -> Source:
        return cls(sub.student_id, sub, use_bwrap)

    @property
    def is_reference(self) -> bool:
        return self.submission is None

    @property
    def role(self) -> str:
        """``"reference"`` or ``"submission"``: the ``source`` column of the tidy table."""
        return REFERENCE if self.submission is None else "submission"

    def describe(self) -> dict[str, Any]:
        if self.submission is None:
            return {"kind": REFERENCE}
        return {"kind": "submission", "name": self.name, "sha256": self.submission.sha256}


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def code_version(source: Source) -> str:
    """A digest of the code that decides a run's numbers, for its cache key.

    Reference runs depend on the reference library's layers, optimizers, trainer and data
    readers, on the request (:mod:`.network`) and on their child process; submission runs
    on the request and the in-sandbox package (both workers). How a run is started and
    stored does not count.
    """
    return _code_version(source.is_reference)


@lru_cache(maxsize=2)
def _code_version(is_reference: bool) -> str:
    ref = Path(reference.__file__).resolve().parent
    files = [PACKAGE / "network.py"]
    if is_reference:
        files += [*ref.glob("nn/**/*.py"), *ref.glob("data/*.py"), PACKAGE / "reference_run.py"]
    else:
        files += sorted(Path(ablation_worker.__file__).parent.glob("*.py"))
    return f"{grader.__version__}+{_digest(files)}"


@dataclass(frozen=True)
class RunTask:
    """Everything a pool worker needs to train one run and store it (picklable)."""

    key: str
    setup: Setup
    seed: int
    data: RegimeData
    source: Source
    store: Path
    tools: Path | None
    label: str

    def params(self) -> dict[str, Any]:
        """What ``params.json`` records: the identity of the run and its full request."""
        req = network.request(self.setup, self.seed, self.data.n_features)
        return {**identity(self.setup, self.seed, self.data, self.source),
                "key": self.key, "request": network.describe(req)}


def identity(setup: Setup, seed: int, data: RegimeData, source: Source) -> dict[str, Any]:
    """What decides a run's numbers; its hash is the run's cache key."""
    return {"setup": setup.to_dict(), "seed": seed, "data": data.describe(),
            "source": source.describe(), "code": code_version(source)}


def parse(result: RunResult) -> RunOutcome:
    """The outcome of a trainer's JSON lines; anything else ends what can be trusted."""
    metrics: list[dict[str, float]] = []
    for line in result.stdout.splitlines():
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            break
        if not isinstance(answer, dict):
            break
        if answer.get("done") is True:
            return RunOutcome("ok", "", metrics)
        if "error" in answer:
            status = "not_available" if answer.get("not_attempted") else "error"
            where = f" ({answer['where']})" if answer.get("where") else ""
            return RunOutcome(status, f"{answer['error']}{where}", metrics)
        try:
            metrics.append({k: float(answer[k]) for k in store.COLUMNS})
        except (KeyError, TypeError, ValueError):
            break
    tail = result.stderr_tail(3).replace("\n", " | ")
    return RunOutcome("error", f"{result.describe_failure()}: {tail}".rstrip(": "), metrics)


def train(task: RunTask, scratch: Path) -> RunResult:
    """Start the trainer of ``task.source`` in ``scratch`` and wait for it."""
    req = protocol.encode(network.request(task.setup, task.seed, task.data.n_features))
    line = json.dumps(req) + "\n"
    workspace = scratch / "workspace"
    if task.source.submission is None:
        workspace.mkdir()
        # The reference trainer is the grader's own code: its Python, no student sandbox.
        box = Sandbox(workspace, task.data.directory, use_bwrap=False, policy=None)
        return box.run(["python", "-m", REFERENCE_RUNNER], line, LIMITS)
    submission.make_workspace(task.source.submission, workspace)
    box = Sandbox(workspace, task.data.directory, task.source.use_bwrap, tools_dir=task.tools)
    return box.run(box.inside("ablation_worker"), line, LIMITS)


def perform(task: RunTask) -> RunOutcome:
    """Train ``task`` and store its files; the pool's unit of work."""
    with tempfile.TemporaryDirectory(prefix="le4nn-ablation-") as tmp:
        outcome = parse(train(task, Path(tmp)))
    store.save(task.store, task.key, task.params(), outcome)
    return outcome
