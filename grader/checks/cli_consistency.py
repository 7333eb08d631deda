"""Checks that the classifiers' answers come from the image and the network (issue 15).

- ``task1.duplicates`` / ``task4.duplicates`` (4c): the handout plants identical images
  at a few indices (:attr:`grader.handout.Handout.duplicates`); a program that classifies
  the image of the index it was given answers the same for both. One that reads index
  i−1 or i+1 sees unlike images there and (almost) never does.
- ``task4.consistency`` (4b): the parameters task 3 saved, run as the course network
  (eq. 1–6, :mod:`grader.course_network`), must predict what task 4 answered for a
  seeded sample of images and for seeded images that network gets clearly wrong.
  Answers looked up in a table of the public test set, or computed by anything but the
  saved network, disagree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks.base import Context, Verdict, check, failed, passed
from grader.checks.cli_classify import _no_finished_run, sample_order
from grader.checks.cli_training import task3_run
from grader.checks.parse import shorten, single_digit
from grader.course_network import Match, best_match, clear_mistakes
from grader.params_reader import FileAccount, NamedArray, read_arrays
from grader.results import Message
from grader.sandbox import RunResult

MAX_DISAGREEMENTS_SHOWN = 16


def planted_runs(ctx: Context, task: str) -> list[tuple[int, RunResult]]:
    """(index, run) for both indices of every planted pair, each index run once."""
    indices = [i for pair in ctx.handout.duplicates for i in pair]
    return list(zip(indices, ctx.run_at(task, indices), strict=True))


def _answer(run: RunResult) -> str | None:
    return run.stdout.strip() if run.ok else None


def duplicates(ctx: Context, task: str) -> Verdict:
    """The same answer for every pair of identical images, unless the program is unstable."""
    program = f"{task}.py"
    if not ctx.handout.duplicates:
        return Verdict("unverified", Message("duplicates.none_planted", {"program": program}))
    runs = planted_runs(ctx, task)
    if not any(r.ok for _, r in runs):
        return _no_finished_run(task, runs, ctx)
    answers = {i: _answer(r) for i, r in runs}
    pairs = [(s, c) for s, c in ctx.handout.duplicates
             if answers[s] is not None and answers[c] is not None]
    details: dict[str, Any] = {"pairs": [list(p) for p in ctx.handout.duplicates],
                               "answers": {str(i): a for i, a in answers.items()}}
    differ = [(s, c) for s, c in pairs if answers[s] != answers[c]]
    if not pairs:
        return failed("duplicates.nothing_to_compare", details, program=program)
    if not differ:
        return passed("duplicates.same", details, program=program, count=len(pairs))
    source, copy = differ[0]
    again = _answer(ctx.run(task, f"{source}\n"))
    details |= {"source": source, "copy": copy, "source_again": again}
    if again != answers[source]:
        return Verdict("unverified", Message("duplicates.unstable", {
            "program": program, "index": source, "first": shorten(answers[source] or "", 20),
            "second": shorten(again or "∅", 20)}), details)
    return failed("duplicates.differ", details, program=program, first=source, second=copy,
                  a=shorten(answers[source] or "", 20), b=shorten(answers[copy] or "", 20),
                  differing=len(differ), pairs=len(pairs))


@check("task1.duplicates", program="task1", reproduce="python -m grader grade .")
def task1_duplicates(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return duplicates(ctx, "task1")


@check("task4.duplicates", program="task4", reproduce="python -m grader grade .")
def task4_duplicates(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return duplicates(ctx, "task4")


def consistency_runs(ctx: Context, sample: int) -> list[tuple[int, RunResult]]:
    """Task 4 on the planted indices and the first ``sample`` others of the seeded order
    ``task4.accuracy`` asks in (most of them already run there), in index order."""
    planted = planted_runs(ctx, "task4")
    taken = {i for i, _ in planted}
    others = [i for i in sample_order(ctx) if i not in taken][:sample]
    return sorted([*planted, *zip(others, ctx.run_at("task4", others), strict=True)],
                  key=lambda pair: pair[0])


def _digit(run: RunResult) -> int:
    """The digit a run printed; −1 (matching no class) when it printed none."""
    digit = single_digit(run.stdout) if run.ok else None
    return -1 if digit is None else digit


def _describe_files(accounts: list[FileAccount], limit: int = 300) -> str:
    """``a.npz: W1 784×100, b1 100; log.bin: —`` (shapes only: no English in a ja report)."""
    parts = []
    for account in accounts:
        shapes = ", ".join(f"{name.split(':', 1)[-1]} {'×'.join(map(str, shape))}"
                           for name, shape in account.arrays[:8])
        more = ", …" if len(account.arrays) > 8 else ""
        parts.append(f"{account.path}: {shapes + more if shapes else '—'}")
    return shorten("; ".join(parts), limit)


def _not_verifiable(ctx: Context) -> Verdict | None:
    """Why the saved parameters cannot be looked at, or None when task 3 wrote files."""
    if ctx.submission.program("task3") is None:
        return Verdict("unverified", Message("consistency.no_task3", {}))
    t3 = task3_run(ctx)
    if not t3.written:
        ended = t3.run.describe_failure()
        return Verdict("unverified", Message("consistency.no_files", {"ended": ended}),
                       {"task3_ended": ended})
    return None


@check("task4.consistency", program="task4", reproduce="python task3.py; python -m grader "
       "grade .", sample=20, targeted=8, threshold=0.95)
def task4_consistency(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Task 4's answers agree with the network task 3 saved (best reading of its files).

    Asked first about the planted pairs and ``sample`` images of the accuracy order, then
    about ``targeted`` images, drawn with the plan's sample seed, that the network read from
    those answers gets clearly wrong (:func:`grader.course_network.clear_mistakes`): a
    lookup of the true labels or another network agrees with the saved one wherever it is
    right, and gives itself away only where it is wrong.
    """
    unverifiable = _not_verifiable(ctx)
    if unverifiable is not None:
        return unverifiable
    runs = consistency_runs(ctx, int(settings["sample"]))
    if not any(r.ok for _, r in runs):
        return _no_finished_run("task4", runs, ctx)
    found = read_arrays(ctx.sandbox.workspace, task3_run(ctx).written)
    files = [{"path": f.path, "arrays": [[n, list(s)] for n, s in f.arrays],
              "problem": f.problem} for f in found.files]
    match = _match(ctx, found.arrays, runs)
    if match is None:
        return Verdict("unverified", Message("consistency.unrecognised", {
            "files": _describe_files(found.files)}), {"files": files})
    rng = np.random.default_rng([ctx.plan.seeds.get("sample", 0), 3])
    targets = clear_mistakes(match, ctx.handout.test_images, ctx.handout.test_labels,
                             int(settings["targeted"]), {i for i, _ in runs}, rng)
    if targets:
        runs += zip(targets, ctx.run_at("task4", targets), strict=True)
        match = _match(ctx, found.arrays, runs)  # refitted: any reading may agree best now
    return _judge(ctx, settings, runs, match, files, len(targets))


def _match(ctx: Context, arrays: list[NamedArray],
           runs: list[tuple[int, RunResult]]) -> Match | None:
    indices = [i for i, _ in runs]
    answers = np.array([_digit(r) for _, r in runs])
    return best_match(arrays, ctx.handout.test_images[indices], answers)


def _judge(ctx: Context, settings: dict[str, Any], runs: list[tuple[int, RunResult]],
           match: Match, files: list[dict[str, Any]], targeted: int) -> Verdict:
    """The agreement over all images asked; the last ``targeted`` runs are the targeted."""
    indices = [i for i, _ in runs]
    answers = np.array([_digit(r) for _, r in runs])
    n, threshold = len(indices), float(settings["threshold"])
    labels = ctx.handout.test_labels[indices]
    agree = answers == match.predictions
    rate = match.agreement / n
    disagree = [{"index": i, "answer": int(a), "network": int(p)} for i, a, p in
                zip(indices, answers, match.predictions, strict=True) if a != p]
    on_targets = int(agree[n - targeted:].sum()) if targeted else 0
    details = {
        "n": n, "agreement": rate, "threshold": threshold, "reading": match.describe(),
        "activation": match.activation, "scaling": match.scaling, "indices": indices,
        "answers": answers.tolist(), "network": match.predictions.tolist(),
        # on the images not targeted: the targeted are the network's mistakes
        "answers_accuracy": float(np.mean((answers == labels)[:n - targeted])),
        "network_accuracy": float(np.mean((match.predictions == labels)[:n - targeted])),
        "targeted": indices[n - targeted:] if targeted else [],
        "targeted_agreement": on_targets / targeted if targeted else None,
        "disagreements": disagree[:MAX_DISAGREEMENTS_SHOWN], "files": files,
    }
    targeted_note = ({"key": "consistency.targeted", "params": {"n": targeted,
                      "agree": on_targets}} if targeted
                     else {"key": "consistency.not_targeted", "params": {}})
    params = {"agree": match.agreement, "n": n, "rate": f"{100 * rate:.0f}%",
              "need": f"{100 * threshold:.0f}%", "reading": shorten(match.describe(), 300),
              "targeted": targeted_note}
    if rate >= threshold:
        return passed("consistency.agrees", details, **params)
    return failed("consistency.disagrees", details, **params)
