"""Checks of the training programs, tasks 2 and 3 (§4.3.3, §4.3.5)."""

from __future__ import annotations

import math
import stat
from pathlib import Path
from typing import Any

from grader.checks.base import Context, Verdict, check, failed, passed
from grader.checks.parse import all_finite, numbers_per_line, shorten, single_number
from grader.checks.reproduce import program_run
from grader.checks.words import ended, training_data
from grader.results import Message
from grader.safe_files import UnsafeFile, lstat, walk
from grader.sandbox import RunResult
from grader.stats import trend_slope

# Files that exist to run the program, not results of running it.
_NOT_ARTEFACTS = {".py", ".ipynb", ".pyc", ".toml", ".md", ".txt"}


def _run_failed(ctx: Context, task: str, run: RunResult) -> Verdict:
    outcome = "timeout" if run.timed_out else "error"
    return Verdict(outcome, Message("cli.run_failed", {"program": f"{task}.py",
                   "ended": ended(run)}),
                   {"ended": ended(run), "stderr_tail": run.stderr_tail()},
                   reproduce=program_run(ctx, task))


@check("task2.cross_entropy", program="task2", reproduce="python task2.py",
       low=1.8, high=3.5)
def task2_cross_entropy(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """One number on stdout, near ln 10 for an untrained 10-class network (eq. 8)."""
    run = ctx.run("task2")
    if not run.ok:
        return _run_failed(ctx, "task2", run)
    value = single_number(run.stdout)
    again = program_run(ctx, "task2")
    if value is None:
        return failed("task2.bad_format", {"stdout": run.stdout[:500]},
                      printed=shorten(run.stdout) or "∅").reproduced_by(again)
    low, high = settings["low"], settings["high"]
    details = {"loss": value, "low": low, "high": high, "ln10": math.log(10)}
    if not (math.isfinite(value) and low <= value <= high):
        verdict = failed("task2.implausible", details, loss=f"{value:.4g}", low=low, high=high)
        return verdict.reproduced_by(again)
    return passed("task2.plausible", details, loss=f"{value:.4f}")


class Task3Run:
    """The one training run of task 3: what it printed and which files it left behind."""

    def __init__(self, run: RunResult, written: list[str]) -> None:
        self.run, self.written = run, written
        self.losses = numbers_per_line(run.stdout) if run.ok else []


def task3_run(ctx: Context) -> Task3Run:
    def compute() -> Task3Run:
        before = _snapshot(ctx.sandbox.workspace)
        run = ctx.run("task3")
        after = _snapshot(ctx.sandbox.workspace)
        written = sorted(p for p, stamp in after.items() if before.get(p) != stamp)
        return Task3Run(run, written)

    return ctx.once("task3", compute)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every regular file of the workspace, by relative path.

    Walked through :mod:`grader.safe_files`: a link is not followed (not even to stat
    it), a pipe is listed by the walk but never opened, and the walk is bounded.
    """
    tree = walk(root)
    return {rel.as_posix(): (tree.stats[rel].st_size, tree.stats[rel].st_mtime_ns)
            for rel in tree.files if rel.suffix not in _NOT_ARTEFACTS}


@check("task3.losses_per_epoch", program="task3", reproduce="python task3.py")
def task3_losses(ctx: Context, settings: dict[str, Any]) -> Verdict:
    t3 = task3_run(ctx)
    if not t3.run.ok:
        return _run_failed(ctx, "task3", t3.run)
    again = program_run(ctx, "task3")
    if not t3.losses:
        return failed("task3.no_losses", {"stdout": t3.run.stdout[:500]}).reproduced_by(again)
    if not all_finite(t3.losses):
        epoch = next(i for i, v in enumerate(t3.losses, 1) if not math.isfinite(v))
        return failed("task3.not_finite", {"losses": [repr(v) for v in t3.losses]},
                      epoch=epoch).reproduced_by(again)
    return passed("task3.losses_ok", {"losses": t3.losses}, epochs=len(t3.losses))


@check("task3.learning", program="task3", reproduce="python task3.py",
       min_relative_drop=0.2)
def task3_learning(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """The printed losses fall: a negative trend and a last value well below the first.

    A failure names what the run trained on (the handout's training set, its size from
    results.json ``data``) and how many epochs it printed: a correct network with too
    small a learning rate or too few epochs for that much data fails here too.
    """
    t3 = task3_run(ctx)
    if not t3.run.ok:
        return _run_failed(ctx, "task3", t3.run)
    losses = t3.losses
    again = program_run(ctx, "task3")
    if len(losses) < 2 or not all_finite(losses):
        return failed("task3.too_few_losses", {"losses": [repr(v) for v in losses]},
                      epochs=len(losses)).reproduced_by(again)
    drop = (losses[0] - losses[-1]) / abs(losses[0]) if losses[0] else 0.0
    details = {"losses": losses, "relative_drop": drop, "slope": trend_slope(losses),
               "min_relative_drop": settings["min_relative_drop"]}
    params = {"first": f"{losses[0]:.4f}", "last": f"{losses[-1]:.4f}",
              "drop": f"{100 * drop:.0f}", "need": f"{100 * settings['min_relative_drop']:.0f}"}
    if details["slope"] < 0 and drop >= settings["min_relative_drop"]:
        return passed("task3.learns", details, **params)
    return failed("task3.not_learning", details, **params, epochs=len(losses),
                  data=training_data(ctx.data)).reproduced_by(again)


@check("task3.params_saved", program="task3", reproduce="python task3.py && ls -l")
def task3_params_saved(ctx: Context, settings: dict[str, Any]) -> Verdict:
    t3 = task3_run(ctx)
    if not t3.run.ok:
        return _run_failed(ctx, "task3", t3.run)
    written = [p for p in t3.written if _non_empty_file(ctx.sandbox.workspace, p)]
    if not written:
        return failed("task3.no_params_file").reproduced_by(
            f"{program_run(ctx, 'task3')} && ls -l")
    return passed("task3.params_file", {"files": written}, files=", ".join(written[:5]))


def _non_empty_file(root: Path, rel: str) -> bool:
    """Whether ``root/rel`` is a regular file with content (a link or FIFO is not one)."""
    try:
        info = lstat(root, rel)
    except UnsafeFile:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0
