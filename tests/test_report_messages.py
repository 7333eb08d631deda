"""Messages that tell the truth: what a failure says and the command that reproduces it.

The checks run here against a scripted context (the runs a program would have made),
so each test pins what one verdict says; a slow test runs a reproduce command for real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.checks.base import Context
from grader.checks.cli_classify import index_range, output_format, task1_determinism
from grader.checks.cli_training import task3_learning
from grader.checks.reproduce import HANDOUT_DIR, program_run
from grader.grade import grade, known_checks
from grader.i18n import render
from grader.plan import load
from grader.sandbox import RunResult
from tests.conftest import EXAMPLES, ROOT, SHIPPED

QUICK_PLAN = ROOT / "tests" / "plans" / "quick.toml"
HANDOUT = f"python -m grader handout {HANDOUT_DIR}"


def ok(stdout: str) -> RunResult:
    return RunResult(0, stdout, "", False, 0.1, False)


CRASH = RunResult(1, "", "IndexError: index 0 is out of bounds", False, 0.1, False)


class Scripted(Context):
    """A context whose programs answer from ``answer(stdin) -> RunResult``."""

    def __init__(self, answer, plan_path: Path | None = None, data_dir: Path | None = None,
                 programs: dict[str, Path] | None = None, n_train: int = 4000,
                 workspace: Path = Path("/nonexistent")) -> None:
        submission = SimpleNamespace(programs=programs or {}, root=workspace)
        handout = SimpleNamespace(n_test=10_000, duplicates=((17, 4242),))
        super().__init__(submission, SimpleNamespace(workspace=workspace), handout,
                         load(plan_path, known_checks), 1,
                         data={"kind": "embedded", "n_train": n_train, "n_test": 1000},
                         data_dir=data_dir)
        self.answer = answer

    def run(self, task: str, stdin: str = "") -> RunResult:
        return self.answer(stdin)

    def run_many(self, task: str, stdins) -> list[RunResult]:
        return [self.answer(s) for s in stdins]


def test_an_index_range_failure_is_reproduced_with_the_index_that_failed() -> None:
    # Fails on the first index only (e.g. reading image i-1): the command must use 0.
    ctx = Scripted(lambda stdin: CRASH if stdin == "0\n" else ok("7\n"))
    verdict = index_range(ctx, "task1", repeats=1)
    assert verdict.outcome == "failed" and verdict.details["index"] == 0
    assert verdict.reproduce == f"{HANDOUT} && echo 0 | MNIST_DIR={HANDOUT_DIR} python task1.py"
    last = Scripted(lambda stdin: CRASH if stdin == "9999\n" else ok("7\n"))
    assert "echo 9999 |" in index_range(last, "task1", repeats=1).reproduce


def test_a_format_failure_names_the_index_and_reproduces_it() -> None:
    ctx = Scripted(lambda stdin: ok("Predicted: 7\n") if stdin == "9999\n" else ok("7\n"))
    verdict = output_format(ctx, "task4", repeats=1)
    assert verdict.outcome == "failed" and verdict.details["index"] == 9999
    assert verdict.reproduce.endswith(f"echo 9999 | MNIST_DIR={HANDOUT_DIR} python task4.py")


def test_determinism_is_reproduced_by_running_twice_on_the_index_that_differed() -> None:
    # Only the last index answers differently the second time it is asked.
    asked = Counter()

    def answer(stdin: str):
        asked[stdin] += 1
        return ok(f"{asked[stdin]}\n" if stdin == "9999\n" else "1\n")

    verdict = task1_determinism(Scripted(answer), {})
    assert verdict.outcome == "failed" and verdict.details["index"] == 9999
    assert verdict.reproduce == (f"{HANDOUT} && for i in $(seq 2); do echo 9999 | "
                                 f"MNIST_DIR={HANDOUT_DIR} python task1.py; done")


def test_the_handout_command_names_the_plan_and_data_folder_grading_used(tmp_path) -> None:
    plan = tmp_path / "plan.toml"
    shutil.copyfile(QUICK_PLAN, plan)
    ctx = Scripted(lambda stdin: ok("7\n"), plan_path=plan, data_dir=Path("mnist"))
    assert program_run(ctx, "task2") == (
        f"python -m grader handout {HANDOUT_DIR} --plan {plan.resolve()} "
        f"--data-dir {Path('mnist').resolve()} && MNIST_DIR={HANDOUT_DIR} python task2.py")


def test_a_hidden_plan_has_no_handout_to_write(tmp_path) -> None:
    hidden = tmp_path / "hidden.toml"
    hidden.write_text(QUICK_PLAN.read_text().replace('visibility = "public"',
                                                     'visibility = "hidden"'))
    ctx = Scripted(lambda stdin: ok("7\n"), plan_path=hidden)
    assert program_run(ctx, "task1", 12) == "echo 12 | python task1.py"


def test_a_notebook_is_turned_into_the_script_first() -> None:
    ctx = Scripted(lambda stdin: ok("7\n"), programs={"task1": Path("task1.ipynb")})
    assert program_run(ctx, "task1", 3).split(" && ")[1:] == [
        "jupyter nbconvert --to script task1.ipynb",
        f"echo 3 | MNIST_DIR={HANDOUT_DIR} python task1.py"]


@pytest.mark.parametrize(("lang", "words"), [
    ("ja", ["学習率", "エポック数", "同梱の MNIST の学習用 4,000 枚", "3 エポック", "式 12–19"]),
    ("en", ["learning rate", "number of epochs", "the 4,000 training images of the embedded",
            "for 3 epochs", "eq. 12–19"]),
])
def test_a_slow_learner_is_told_about_learning_rate_epochs_and_the_data(lang, words,
                                                                         tmp_path) -> None:
    ctx = Scripted(lambda stdin: ok("2.30\n2.25\n2.21\n"), workspace=tmp_path)
    verdict = task3_learning(ctx, {"min_relative_drop": 0.2})
    assert verdict.outcome == "failed" and verdict.message.key == "task3.not_learning"
    text = render(verdict.message, lang)
    for word in words:
        assert word in text, (word, text)
    assert verdict.reproduce == f"{HANDOUT} && MNIST_DIR={HANDOUT_DIR} python task3.py"


def test_how_a_run_ended_is_worded_in_the_report_language() -> None:
    ctx = Scripted(lambda stdin: RunResult(-9, "", "", False, 0.1, False))
    verdict = index_range(ctx, "task1", repeats=1)
    assert "シグナル SIGKILL で強制終了" in render(verdict.message, "ja")
    assert "killed by SIGKILL" in render(verdict.message, "en")
    timed_out = Scripted(lambda stdin: RunResult(None, "", "", True, 30.0, False))
    assert "制限時間を超えました" in render(index_range(timed_out, "task1", 1).message, "ja")


@pytest.mark.slow
def test_a_reproduce_command_run_from_the_students_folder_shows_the_same_failure(
        tmp_path) -> None:
    """Grade a known-bad example, then run the command its report shows, as a student
    would: from a copy of the folder, with the grader installed (here: on PYTHONPATH)."""
    doc = grade(EXAMPLES / "wrong_format_task1", tmp_path / "out", plan_path=QUICK_PLAN)
    check = next(t["extra_data"] for t in doc["tests"] if t["name"] == "task1.output_format")
    assert check["outcome"] == "failed"
    folder = tmp_path / "me" / "s1234567"
    # The shipped folder: the reference library its programs use comes from PYTHONPATH as
    # the grader does (a built copy's own reference/ would stand in front of the grader's).
    shutil.copytree(SHIPPED / "examples" / "wrong_format_task1", folder)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `python` as the student's shell finds it: this interpreter, with its packages.
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    env.pop("MNIST_DIR", None)
    run = subprocess.run(["bash", "-c", check["reproduce"]], cwd=folder, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith(check["details"]["stdout"]), json.dumps(check)
    assert (tmp_path / "me" / "le4nn-handout").is_dir()  # beside the folder, not inside
