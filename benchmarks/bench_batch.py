"""Batch grading speed-up: the same class graded with 1 and with 2 worker processes, and
on a Dask cluster of 2 workers (started here, before the clock: a cluster is already
running when a batch is sent to it).

Usage: python benchmarks/bench_batch.py [--copies K] [--plan PLAN] [--no-dask]
Target: at least 1.7× faster with 2 workers on 2 cores, locally and on Dask.

The default plan is the public one: with the kept check worker a submission graded on the
API checks alone takes about a second, and the batch's fixed costs would hide the speed-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import run_batch  # noqa: E402
from reference.tasks.bundle import bundle  # noqa: E402

DEFAULT_PLAN = ROOT / "grader" / "plans" / "public.toml"
EXAMPLES = ("dlfs_style", "wrong_format_task1")


def make_class(root: Path, copies: int) -> None:
    # Built copies: they hand in the reference modules they use, as the sandbox requires.
    for i in range(copies):
        bundle(ROOT / "submissions" / "reference", root / f"reference{i}")
    for name in EXAMPLES:
        bundle(ROOT / "submissions" / "examples" / name, root / name)


def timed(root: Path, out: Path, jobs: int, plan: Path, scheduler: str | None = None) -> float:
    start = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        summary = run_batch(root, out, plan_path=plan, jobs=jobs, scheduler=scheduler,
                            stream=quiet)
    assert not summary.failed and not summary.skipped
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=6, help="copies of the reference (default 6)")
    p.add_argument("--plan", type=Path, default=DEFAULT_PLAN)
    p.add_argument("--no-dask", action="store_true", help="leave out the Dask cluster")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "class"
        make_class(root, args.copies)
        n = args.copies + len(EXAMPLES)
        rows = [("local", 1, timed(root, Path(tmp) / "out1", 1, args.plan)),
                ("local", 2, timed(root, Path(tmp) / "out2", 2, args.plan))]
        if not args.no_dask:
            rows.append(("dask", 2, timed_on_dask(root, Path(tmp) / "out3", args.plan)))
    print(f"batch of {n} submissions, plan {args.plan.name}")
    print(f"{'executor':>8} {'workers':>8} {'seconds':>9} {'per submission':>15} {'speed-up':>9}")
    one = rows[0][2]
    for name, workers, seconds in rows:
        print(f"{name:>8} {workers:>8} {seconds:>9.1f} {seconds / n:>15.2f} "
              f"{one / seconds:>8.2f}×")
    print("speed-up: against the local pool with 1 worker (target ≥ 1.7× with 2)")


def timed_on_dask(root: Path, out: Path, plan: Path) -> float:
    """The class on a Dask cluster of 2 worker processes of one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        return timed(root, out, 2, plan, cluster.scheduler_address)


if __name__ == "__main__":
    main()
