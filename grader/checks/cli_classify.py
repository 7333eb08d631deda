"""Checks of the classifier programs, tasks 1 and 4 (§4.2.2, §4.3.6).

Both read one index 0–9999 from stdin and print one digit 0–9. Every check here is a
view on a shared set of runs, so a program is started as few times as possible.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np

from grader.checks.base import Context, Verdict, check, failed, passed
from grader.checks.parse import shorten, single_digit
from grader.checks.reproduce import program_run
from grader.checks.words import ended
from grader.results import Message
from grader.sandbox import RunResult
from grader.sequential import SequentialTest, plan_test

PROBES = 4  # indices besides the first and the last
MAX_MISCLASSIFIED_SHOWN = 16


def probe_indices(ctx: Context, task: str) -> list[int]:
    """The first and last index plus :data:`PROBES` that other checks ask about too.

    Task 1's are the sources of the planted duplicates (``task1.duplicates``), task 4's the
    first images of the accuracy order (``task4.accuracy``), topped up from that seeded
    order: their runs are shared (:meth:`Context.run_at`).
    """
    last = ctx.handout.n_test - 1
    planted = [source for source, _ in ctx.handout.duplicates] if task == "task1" else []
    others = [i for i in dict.fromkeys([*planted, *sample_order(ctx)]) if i not in (0, last)]
    return [0, last, *others[:PROBES]]


def probe_runs(ctx: Context, task: str, repeats: int) -> list[tuple[int, RunResult]]:
    """(index, run) for every probe index, each run ``repeats`` times; computed once.

    The first run of each index is the one other checks share; the repeats are fresh.
    """

    def compute() -> list[tuple[int, RunResult]]:
        indices = probe_indices(ctx, task)
        again = indices * (repeats - 1)
        return [*zip(indices, ctx.run_at(task, indices), strict=True),
                *zip(again, ctx.run_many(task, [f"{i}\n" for i in again]), strict=True)]

    return ctx.once(("probe", task, repeats), compute)


def _failure(index: int, run: RunResult) -> dict[str, Any]:
    return {"index": index, "ended": ended(run), "stderr_tail": run.stderr_tail()}


def _no_finished_run(task: str, runs: list[tuple[int, RunResult]], ctx: Context) -> Verdict:
    index, run = runs[0]
    outcome = "timeout" if run.timed_out else "error"
    return Verdict(outcome, Message("cli.no_run_finished", {"program": f"{task}.py",
                   "index": index, "ended": ended(run)}), _failure(index, run),
                   reproduce=program_run(ctx, task, index))


def output_format(ctx: Context, task: str, repeats: int) -> Verdict:
    runs = probe_runs(ctx, task, repeats)
    finished = [(i, r) for i, r in runs if r.ok]
    if not finished:
        return _no_finished_run(task, runs, ctx)
    for index, run in finished:
        if single_digit(run.stdout) is None:
            verdict = failed("classify.bad_format", {"index": index, "stdout": run.stdout[:500]},
                             program=f"{task}.py", index=index,
                             printed=shorten(run.stdout) or "∅")
            return verdict.reproduced_by(program_run(ctx, task, index))
    return passed("classify.format_ok", {"runs": len(finished)}, runs=len(finished))


def index_range(ctx: Context, task: str, repeats: int) -> Verdict:
    """Every index tried gets an answer: a normal exit with something on stdout."""
    runs = probe_runs(ctx, task, repeats)
    for index, run in runs:
        if not run.ok:
            outcome = "timeout" if run.timed_out else "failed"
            return Verdict(outcome, Message("classify.index_failed", {
                "program": f"{task}.py", "index": index, "ended": ended(run)}),
                _failure(index, run), reproduce=program_run(ctx, task, index))
        if not run.stdout.strip():
            verdict = failed("classify.no_answer", _failure(index, run), program=f"{task}.py",
                             index=index)
            return verdict.reproduced_by(program_run(ctx, task, index))
    indices = sorted({i for i, _ in runs})
    return passed("classify.indices_ok", {"indices": indices},
                  indices=", ".join(map(str, indices)))


@check("task1.output_format", program="task1", reproduce="echo 0 | python task1.py")
def task1_output_format(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return output_format(ctx, "task1", repeats=2)


@check("task1.index_range", program="task1", reproduce="echo 9999 | python task1.py")
def task1_index_range(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return index_range(ctx, "task1", repeats=2)


@check("task1.determinism", program="task1",
       reproduce="for i in $(seq 2); do echo 0 | python task1.py; done")
def task1_determinism(ctx: Context, settings: dict[str, Any]) -> Verdict:
    runs = probe_runs(ctx, "task1", repeats=2)
    answers: dict[int, list[str]] = {}
    for index, run in runs:
        if run.ok:
            answers.setdefault(index, []).append(run.stdout.strip())
    # Two silent runs agree, but say nothing about determinism: they are left out.
    pairs = {i: a for i, a in answers.items() if len(a) == 2 and any(a)}
    if not pairs and not answers:
        return _no_finished_run("task1", runs, ctx)
    if not pairs:
        return failed("classify.nothing_to_compare", {}).reproduced_by(
            program_run(ctx, "task1", runs[0][0], times=2))
    for index, (first, second) in pairs.items():
        if first != second:
            verdict = failed("classify.not_deterministic",
                             {"index": index, "outputs": [first, second]}, index=index,
                             first=shorten(first, 20), second=shorten(second, 20))
            return verdict.reproduced_by(program_run(ctx, "task1", index, times=2))
    return passed("classify.deterministic", {"indices": sorted(pairs)}, count=len(pairs))


@check("task4.output_format", program="task4", reproduce="echo 0 | python task4.py")
def task4_output_format(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return output_format(ctx, "task4", repeats=1)


@check("task4.index_range", program="task4", reproduce="echo 9999 | python task4.py")
def task4_index_range(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return index_range(ctx, "task4", repeats=1)


@check("task4.accuracy", program="task4", reproduce="python -m grader grade .",
       sample=200, threshold=0.8, confidence=0.95, round=10)
def task4_accuracy(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Accuracy on seeded random test images, judged by a sequential test.

    The images are asked for in rounds of ``round``; after each round the test of
    :mod:`grader.sequential` decides "≥ threshold", "< threshold" or "ask more", up to
    ``sample`` images. An answer that is not exactly one digit still counts when one digit
    can be read from it unambiguously (``task4.output_format`` judges the format).
    """
    size = min(int(settings["sample"]), ctx.handout.n_test)
    order = sample_order(ctx)[:size]
    test = plan_test(size, settings["threshold"], settings["confidence"], int(settings["round"]))
    runs: list[RunResult] = []
    looks, decision = [], None
    for look, n in enumerate(test.looks):
        runs += ctx.run_at("task4", order[len(runs):n])
        if not any(r.ok for r in runs):
            return _no_finished_run("task4", list(zip(order, runs, strict=False)), ctx)
        answers = [_answer(r) for r in runs]
        labels = [int(ctx.handout.test_labels[i]) for i in order[:n]]
        correct = sum(a == y for (a, _), y in zip(answers, labels, strict=True))
        looks.append({"n": n, "correct": correct, "pass_at": test.pass_at[look],
                      "fail_at": test.fail_at[look]})
        decision = test.decide(look, correct)
        if decision is not None or any(r.timed_out for r in runs):
            break
    indices = order[: len(runs)]
    details = _accuracy_details(ctx, test, looks, indices, labels, answers, runs)
    details["confidence"] = settings["confidence"]
    if decision != "passed" and any(r.timed_out for r in runs):
        # Undecided, or failed with the runs a hang cut short counted as wrong.
        index = next(i for i, r in zip(indices, runs, strict=True) if r.timed_out)
        return Verdict("timeout", Message("classify.accuracy_timeout", {
            "program": "task4.py", "index": index, "n": len(runs)}), details)
    params = {"accuracy": f"{details['accuracy']:.3f}", "low": f"{details['lower_bound']:.3f}",
              "high": f"{details['upper_bound']:.3f}", "n": len(runs), "max_n": size,
              "threshold": f"{settings['threshold']:.3f}", "invalid": details["invalid"],
              "lenient": details["lenient"], "correct": details["correct"],
              "confidence": f"{100 * settings['confidence']:g}%"}
    if decision == "passed":
        return passed("classify.accuracy_passed", details, **params)
    if details["invalid"] == len(runs):
        return failed("classify.accuracy_unreadable", details,
                      printed=details["unreadable_example"], **params)
    return failed("classify.accuracy_failed", details, **params)


def sample_order(ctx: Context) -> list[int]:
    """The handed test indices in the plan's seeded order: the images task 4 is asked about.

    ``task4.accuracy`` asks about a prefix of it, ``task4.consistency`` about its first
    images too, so the two share their runs (:meth:`Context.run_at`).
    """
    rng = np.random.default_rng([ctx.plan.seeds.get("sample", 0), 2])
    return ctx.once("sample_order", lambda: rng.permutation(ctx.handout.n_test).tolist())


_ANY_DIGIT = re.compile(r"[0-9]")


def _answer(run: RunResult) -> tuple[int | None, bool]:
    """(the digit the run answered, whether it had to be read leniently).

    Strictly: stdout is one digit. Leniently: the last line with a digit in it has exactly
    one (``Predicted: 7``, ``[7]``); several digits (``7.0``, ``label 3 → 7``) are ambiguous.
    """
    if not run.ok:
        return None, False
    strict = single_digit(run.stdout)
    if strict is not None:
        return strict, False
    lines = [line for line in run.stdout.splitlines() if _ANY_DIGIT.search(line)]
    digits = _ANY_DIGIT.findall(lines[-1]) if lines else []
    return (int(digits[0]), True) if len(digits) == 1 else (None, False)


def _accuracy_details(ctx: Context, test: SequentialTest, looks: list[dict[str, int]],
                      indices: list[int], labels: list[int],
                      answers: list[tuple[int | None, bool]],
                      runs: list[RunResult]) -> dict[str, Any]:
    n, correct = looks[-1]["n"], looks[-1]["correct"]
    low, high = test.bounds(len(looks) - 1, correct)
    predictions = [a for a, _ in answers]
    unreadable = [r.stdout for r, (a, _) in zip(runs, answers, strict=True) if a is None and r.ok]
    lenient = [r.stdout for r, (_, loose) in zip(runs, answers, strict=True) if loose]
    return {
        "n": n, "correct": correct, "accuracy": correct / n, "max_n": test.looks[-1],
        "lower_bound": low, "upper_bound": high, "threshold": test.threshold,
        "test": "sequential", "looks": looks,
        "indices": indices, "labels": labels, "predictions": predictions,
        "invalid": predictions.count(None), "lenient": len(lenient),
        "lenient_example": shorten(lenient[0], 40) if lenient else "",
        "unreadable_example": shorten(unreadable[0], 40) if unreadable else "∅",
        "misclassified": _misclassified(ctx, indices, labels, predictions),
    }


def _misclassified(ctx: Context, indices: list[int], labels: list[int],
                   predictions: list[int | None]) -> list[dict[str, Any]]:
    """The first wrong answers with their images, so the report can show them."""
    shown = []
    for index, label, pred in zip(indices, labels, predictions, strict=True):
        if pred != label and len(shown) < MAX_MISCLASSIFIED_SHOWN:
            image = np.ascontiguousarray(ctx.handout.test_images[index], dtype=np.uint8)
            shown.append({"index": index, "label": label, "predicted": pred,
                          "image": base64.b64encode(image.tobytes()).decode("ascii")})
    return shown
