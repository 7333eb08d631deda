"""Every run of the sweeps: planned, taken from the cache or trained in parallel, then tidied.

Runs go through the executor of batch grading (a local process pool, or a Dask
cluster whose workers see the output folder), with a progress line and an ETA. A run
shared by several sweeps (the λ = 0 level of the L1 and L2 sweeps is the ρ = 0 level
of the dropout sweep) is trained once. The result is one tidy table: a row per run and
epoch, written as ``ablations.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from grader.ablations import runs, store
from grader.ablations.data import RegimeData, prepare
from grader.ablations.runs import RunTask, Source
from grader.ablations.store import RunOutcome
from grader.ablations.sweep import Level, Sweep
from grader.batch.executors import make_executor
from grader.batch.progress import Progress
from grader.sandbox.tools import install_tools
from reference.data import Dataset

RUNS_DIR, DATA_DIR, TOOLS_DIR = "runs", "data", ".tools"
TRIAL_COLUMNS = ("regime", "sweep", "factor", "level", "level_index", "seed", "source",
                 "status", "message", "run")


@dataclass(frozen=True)
class Trial:
    """One cell of a sweep: a level, a seed and whose code trains it; ``key`` names its run."""

    sweep: Sweep
    level_index: int
    seed: int
    source: Source
    key: str

    @property
    def level(self) -> Level:
        return self.sweep.levels[self.level_index]

    @property
    def label(self) -> str:
        return (f"{self.sweep.id} {self.sweep.factor.name}={self.level} seed {self.seed} "
                f"({self.source.name})")


@dataclass
class Results:
    """The sweeps as run: their data, the sources trained and the tidy table."""

    sweeps: list[Sweep]
    sources: list[Source]
    data: dict[str, RegimeData]
    table: pd.DataFrame


def plan(sweeps: Sequence[Sweep], sources: Sequence[Source],
         data: dict[str, RegimeData]) -> list[Trial]:
    """Every (sweep, source, level, seed), in report order, with its run's cache key."""
    return [
        Trial(sweep, i, seed, source,
              store.run_key(runs.identity(sweep.setup(level), seed, data[sweep.regime.name],
                                          source)))
        for sweep in sweeps for source in sources
        for i, level in enumerate(sweep.levels) for seed in sweep.regime.seeds
    ]


def execute(trials: Sequence[Trial], data: dict[str, RegimeData], root: Path, tools: Path | None,
            jobs: int, scheduler: str | None, stream: TextIO) -> dict[str, RunOutcome]:
    """The outcome of every trial's run: cached ones read back, the others trained."""
    outcomes: dict[str, RunOutcome] = {}
    tasks: dict[str, RunTask] = {}
    for t in trials:
        if t.key in outcomes or t.key in tasks:
            continue
        cached = store.load(root, t.key)
        if cached is not None:
            outcomes[t.key] = cached
        else:
            tasks[t.key] = RunTask(t.key, t.sweep.setup(t.level), t.seed,
                                   data[t.sweep.regime.name], t.source, root, tools, t.label)
    print(f"{len(outcomes) + len(tasks)} runs: {len(outcomes)} cached, {len(tasks)} to train",
          file=stream, flush=True)
    if not tasks:
        return outcomes
    progress = Progress(len(tasks), stream)
    executor = make_executor(jobs, scheduler)
    try:
        for task, result in executor.run(runs.perform, list(tasks.values())):
            if isinstance(result, BaseException):
                # Not stored: a crash of the grader's own code is retried next time.
                result = RunOutcome("error", f"{type(result).__name__}: {result}")
            outcomes[task.key] = result
            progress.advance(task.label, result.status)
    finally:
        executor.close()
    return outcomes


def tidy(trials: Sequence[Trial], outcomes: dict[str, RunOutcome]) -> pd.DataFrame:
    """One row per trial and epoch (one row without metrics for a run that has none)."""
    rows = []
    for t in trials:
        outcome = outcomes[t.key]
        trial = dict(zip(TRIAL_COLUMNS, (
            t.sweep.regime.name, t.sweep.name, t.sweep.factor.name, t.level, t.level_index,
            t.seed, t.source.role, outcome.status,
            outcome.message, t.key), strict=True))
        empty = dict.fromkeys(store.COLUMNS, math.nan)
        rows += [{**trial, **m} for m in outcome.metrics or [empty]]
    table = pd.DataFrame(rows, columns=[*TRIAL_COLUMNS, *store.COLUMNS])
    return table.astype({"epoch": "Int64"})


def run_sweeps(sweeps: Sequence[Sweep], sources: Sequence[Source], dataset: Dataset, out: Path,
               jobs: int, scheduler: str | None, stream: TextIO) -> Results:
    """Prepare each regime's data, run (or read back) every trial and tidy the outcomes."""
    data = {}
    for sweep in sweeps:
        if sweep.regime.name not in data:
            data[sweep.regime.name] = prepare(dataset, sweep.regime, out / DATA_DIR)
    tools = None
    if not all(s.is_reference for s in sources):
        tools = out / TOOLS_DIR
        install_tools(tools)
    trials = plan(sweeps, sources, data)
    outcomes = execute(trials, data, out / RUNS_DIR, tools, jobs, scheduler, stream)
    return Results(list(sweeps), list(sources), data, tidy(trials, outcomes))
