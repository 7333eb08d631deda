"""Commands that reproduce a check's result from the student's own folder.

The programs are graded on the handout (:mod:`grader.handout`): the training set and a
shuffled, unlabelled test set of 10,000 images, passed in ``MNIST_DIR``. An index that
failed names an image of that set, so a command that reproduces the failure first writes
the same handout (``python -m grader handout DIR``, with the plan and data folder the
grading used) and then runs the program on it. A hidden plan's handout is not written
out: its commands run the program alone.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from grader.checks.base import Context
from grader.plan import public_plan_path

# Beside the student's folder: outside the submission, kept for the next try.
HANDOUT_DIR = "../le4nn-handout"
# Checks that call the student's code through the grader (the layer API, the written
# report) are reproduced by grading the folder again with the public plan.
GRADE_HERE = "python -m grader grade ."


def handout_step(ctx: Context) -> str:
    """The command that writes the data the programs were graded on, or "" (hidden plan)."""
    if ctx.plan.visibility != "public":
        return ""
    args = ["python", "-m", "grader", "handout", HANDOUT_DIR]
    # Absolute paths: the command runs from the student's folder, not where grading ran.
    plan = Path(ctx.plan.path).resolve()
    if plan != public_plan_path().resolve():
        args += ["--plan", str(plan)]
    if ctx.data_dir is not None:
        args += ["--data-dir", str(Path(ctx.data_dir).resolve())]
    return shlex.join(args)


def program_run(ctx: Context, task: str, index: int | None = None, times: int = 1) -> str:
    """``python taskN.py`` on the graded data, fed ``index`` on stdin, ``times`` in a row.

    A notebook is first turned into the script the grader ran (its code cells).
    """
    handout = handout_step(ctx)
    run = f"python {task}.py"
    if handout:
        run = f"MNIST_DIR={HANDOUT_DIR} {run}"
    if index is not None:
        run = f"echo {int(index)} | {run}"
    if times > 1:
        run = f"for i in $(seq {int(times)}); do {run}; done"
    steps = [handout] if handout else []
    source = ctx.submission.programs.get(task)
    if source is not None and source.suffix == ".ipynb":
        steps.append(f"jupyter nbconvert --to script {shlex.quote(source.name)}")
    return " && ".join([*steps, run])
