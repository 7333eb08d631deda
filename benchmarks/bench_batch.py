"""Batch grading speed-up: the same class graded with 1 and with 2 worker processes.

Usage: python benchmarks/bench_batch.py [--copies K] [--plan PLAN]
Target: at least 1.7× faster with 2 workers on 2 cores.
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

DEFAULT_PLAN = ROOT / "tests" / "plans" / "api.toml"
EXAMPLES = ("dlfs_style", "wrong_format_task1")


def make_class(root: Path, copies: int) -> None:
    # Built copies: they hand in the reference modules they use, as the sandbox requires.
    for i in range(copies):
        bundle(ROOT / "submissions" / "reference", root / f"reference{i}")
    for name in EXAMPLES:
        bundle(ROOT / "submissions" / "examples" / name, root / name)


def timed(root: Path, out: Path, jobs: int, plan: Path) -> float:
    start = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        summary = run_batch(root, out, plan_path=plan, jobs=jobs, stream=quiet)
    assert not summary.failed and not summary.skipped
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=6, help="copies of the reference (default 6)")
    p.add_argument("--plan", type=Path, default=DEFAULT_PLAN)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "class"
        make_class(root, args.copies)
        n = args.copies + len(EXAMPLES)
        one = timed(root, Path(tmp) / "out1", 1, args.plan)
        two = timed(root, Path(tmp) / "out2", 2, args.plan)
    print(f"batch of {n} submissions, plan {args.plan.name}")
    print(f"{'workers':>8} {'seconds':>9} {'per submission':>15}")
    print(f"{1:>8} {one:>9.1f} {one / n:>15.2f}")
    print(f"{2:>8} {two:>9.1f} {two / n:>15.2f}")
    print(f"speed-up with 2 workers: {one / two:.2f}× (target ≥ 1.7×)")


if __name__ == "__main__":
    main()
