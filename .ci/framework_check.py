"""CI: the framework reference, with weights from a tiny training run, graded with the
framework plan through the command line.

Usage: python .ci/framework_check.py WORKDIR

Builds ``submissions/framework_reference`` into WORKDIR (``reference.tasks.bundle``),
trains its weights with ``reference.torch_adapter.export --quick`` (the weights are not
committed), grades it with
``grader/plans/framework.toml`` and checks results.json: every check of the plan has a
record, none ended in ``error`` or ``timeout`` (the sandbox, the framework worker and the
quality scorer all ran), and the checks of loading and format passed. The quality checks
(B1 accuracy, B3 noise dependence, FID, inception score, coverage) judge models trained for
a few steps, so they may fail; the full training is the slow test
``tests/test_torch_framework.py::test_reference_passes_the_framework_plan``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "grader" / "plans" / "framework.toml"
MUST_PASS = ("B1.model_loads", "B1.output_shape", "B2.model_loads", "B2.output_shape",
             "B3.generator_loads", "B3.sample_format")


def main() -> int:
    work = Path(sys.argv[1])
    submission, out = work / "framework_reference", work / "graded"
    python = [sys.executable, "-m"]
    # Built: it hands in the reference modules it uses, as the sandbox requires.
    subprocess.run([*python, "reference.tasks.bundle", str(ROOT / "submissions" /
                    "framework_reference"), str(submission)], check=True, cwd=ROOT)
    subprocess.run([*python, "reference.torch_adapter.export", "--quick", "--out",
                    str(submission)], check=True, cwd=ROOT)
    subprocess.run([*python, "grader", "grade", str(submission), "--plan", str(PLAN),
                    "--out", str(out)], check=True, cwd=ROOT)
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    got = {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}
    planned = set(tomllib.loads(PLAN.read_text(encoding="utf-8"))["checks"])
    problems = [f"no record for {c}" for c in sorted(planned - set(got))]
    problems += [f"{c} ended in {o}" for c, o in got.items() if o in ("error", "timeout")]
    problems += [f"{c} is {got.get(c)}, expected passed" for c in MUST_PASS
                 if got.get(c) != "passed"]
    for problem in problems:
        print(f"framework grading: {problem}", file=sys.stderr)
    print(f"framework grading: {len(got)} checks recorded, "
          f"{sum(o == 'passed' for o in got.values())} passed", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
