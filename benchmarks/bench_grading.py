"""Grading time of the reference submission, per check family, against one run of its task 3.

Usage: python benchmarks/bench_grading.py [--plan PLAN] [--jobs J] [--repeat N]

In one run, on the data grading hands out (the embedded MNIST, the plan's handout seed):

1. the reference's ``task3.py`` trains once in the sandbox, under the plan's limits;
2. the reference is graded with the plan; it must get full marks;
3. each check family is graded alone: its checks only, with the checks of the programs it
   reads from (task 4 needs task 3's parameters, so "task4" is timed as task 3 + task 4 and
   task 4's share is that minus the "task3" family).

It prints the seconds of each (the median of ``--repeat`` runs) and the ratio of the whole
grading to the task-3 run (goal: ≤ 2.0 with the public plan). Grading shares the machine's
cores between families, so the families' times add up to more than the whole grading.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import handout, plan, submission  # noqa: E402
from grader.checks import REGISTRY  # noqa: E402
from grader.grade import grade, known_checks  # noqa: E402
from grader.sandbox import Sandbox  # noqa: E402
from reference.data import load_mnist  # noqa: E402
from reference.tasks.bundle import bundle  # noqa: E402

# Built into the temporary folder: it hands in the reference modules it uses, as a student
# would (the sandbox's Python cannot import the grader's library).
SHIPPED = ROOT / "submissions" / "reference"
GOAL = 2.0
# Family → which checks it holds; the programs a family reads from are added to it.
FAMILIES: dict[str, Callable[[str], bool]] = {
    "task1": lambda c: REGISTRY[c].program == "task1",
    "task2": lambda c: REGISTRY[c].program == "task2",
    "task3": lambda c: REGISTRY[c].program == "task3",
    "task3+task4": lambda c: REGISTRY[c].program in ("task3", "task4"),
    "API (layers, optimizers, imports)": lambda c: REGISTRY[c].program is None
    and not c.startswith("report."),
    "written report": lambda c: c.startswith("report."),
}


def toml_text(doc: dict[str, Any], prefix: str = "") -> str:
    """A plan document back as TOML (tables of scalars, as plans are)."""
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in doc.items() if isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and (scalars or not tables) else []
    lines += [f"{k} = {_value(v)}" for k, v in scalars.items()]
    for key, table in tables.items():
        name = key if key.isidentifier() else f'"{key}"'
        lines.append(toml_text(table, f"{prefix}.{name}" if prefix else name))
    return "\n".join(lines) + "\n"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def family_plan(doc: dict[str, Any], keep: Callable[[str], bool], path: Path) -> Path | None:
    checks = {c: s for c, s in doc.get("checks", {}).items() if keep(c)}
    if not checks:
        return None
    path.write_text(toml_text({**doc, "checks": checks}), encoding="utf-8")
    return path


def time_task3(reference: Path, plan_path: Path, tmp: Path) -> float:
    """Seconds of one run of the reference's task3.py in the sandbox, as grading runs it."""
    the_plan = plan.load(plan_path, known_checks)
    workspace, data = tmp / "t3-workspace", tmp / "t3-data"
    submission.make_workspace(submission.load(reference), workspace)
    handout.prepare(load_mnist(None), data, the_plan.seeds.get("handout", 0))
    sandbox = Sandbox(workspace, data)
    start = time.perf_counter()
    run = sandbox.run(["python", "task3.py"], "", the_plan.limits_for("task3"))
    seconds = time.perf_counter() - start
    if not run.ok:
        raise SystemExit(f"the reference task3.py failed: {run.describe_failure()}\n"
                         f"{run.stderr_tail()}")
    return seconds


def time_grading(reference: Path, plan_path: Path, out: Path,
                 jobs: int) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    doc = grade(reference, out, plan_path=plan_path, jobs=jobs)
    return time.perf_counter() - start, doc


def median_of(repeat: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(i) for i in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, default=ROOT / "grader" / "plans" / "public.toml")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--repeat", type=int, default=1, help="median of N runs (default 1)")
    args = ap.parse_args()
    doc = tomllib.loads(args.plan.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="le4nn-bench-") as name:
        tmp = Path(name)
        reference = tmp / "reference"
        bundle(SHIPPED, reference)
        task3 = median_of(args.repeat,
                          lambda i: time_task3(reference, args.plan, tmp / f"t3-{i}"))
        whole, scores = [], []
        for i in range(args.repeat):
            seconds, result = time_grading(reference, args.plan, tmp / f"whole-{i}", args.jobs)
            whole.append(seconds)
            scores.append((result["score"], result["max_score"]))
        families = {}
        for family, keep in FAMILIES.items():
            path = family_plan(doc, keep, tmp / f"{len(families)}.toml")
            if path is not None:
                families[family] = median_of(args.repeat, lambda i, p=path, f=family: time_grading(
                    reference, p, tmp / f"{f}-{i}".replace(" ", "_"), args.jobs)[0])
    grading = statistics.median(whole)
    load = os.getloadavg()[0]
    print(f"grading the reference with {args.plan.name}, jobs={args.jobs}, "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'family (graded alone)':<36} {'seconds':>8}")
    for family, seconds in families.items():
        print(f"{family:<36} {seconds:>8.1f}")
    if "task3" in families and "task3+task4" in families:
        print(f"{'  task4 share (task3+task4 − task3)':<36} "
              f"{families['task3+task4'] - families['task3']:>8.1f}")
    print(f"{'whole grading':<36} {grading:>8.1f}   score "
          + ", ".join(f"{s:g}/{m:g}" for s, m in scores))
    print(f"{'one run of the reference task3.py':<36} {task3:>8.1f}")
    print(f"ratio grading / task 3: {grading / task3:.2f} (goal ≤ {GOAL})")
    if any(s != m for s, m in scores):
        raise SystemExit("the reference did not get full marks")


if __name__ == "__main__":
    main()
