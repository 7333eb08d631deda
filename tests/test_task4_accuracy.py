"""task4.accuracy: a sequential test over rounds of runs, and answers read leniently.

The program is scripted (a Context whose runs answer from the true labels), so each
case is exact and quick; the reference graded for real is in tests/test_examples.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from grader.checks.base import Context
from grader.checks.cli_classify import task4_accuracy
from grader.handout import Handout
from grader.plan import Plan
from grader.sandbox import Limits, RunResult

SETTINGS = {"sample": 200, "threshold": 0.8, "confidence": 0.95, "round": 10, "weight": 4,
            "visibility": "visible"}
LABELS = np.random.default_rng(5).integers(0, 10, 10_000).astype(np.uint8)


class Scripted(Context):
    """A context whose task-4 runs answer ``reply(index, label)`` without a process."""

    def __init__(self, reply: Callable[[int, int], RunResult]) -> None:
        handout = Handout(Path("/nonexistent"), LABELS, np.zeros((10_000, 28, 28), np.uint8),
                          np.arange(10_000))
        plan = Plan("t", "public", "", "", {"sample": 1}, {}, {"*": Limits()})
        submission = SimpleNamespace(programs={}, root=Path("/nonexistent"))
        super().__init__(submission, None, handout, plan)  # type: ignore[arg-type]
        self.reply, self.asked = reply, []

    def run_many(self, task: str, stdins: list[str]) -> list[RunResult]:
        indices = [int(s) for s in stdins]
        self.asked.append(len(indices))
        return [self.reply(i, int(LABELS[i])) for i in indices]


def printed(text: str) -> RunResult:
    return RunResult(0, text, "", False, 0.1, False)


def accuracy(share_wrong: int) -> Callable[[int, int], RunResult]:
    """Right except for every ``share_wrong``-th index (by index, so it is deterministic)."""
    return lambda i, y: printed(f"{(y + (i % share_wrong == 0)) % 10}\n")


def test_an_accurate_program_passes_after_part_of_the_sample() -> None:
    ctx = Scripted(accuracy(20))  # 95 %
    verdict = task4_accuracy(ctx, SETTINGS)
    d = verdict.details
    assert verdict.outcome == "passed" and verdict.message.key == "classify.accuracy_passed"
    assert d["n"] == sum(ctx.asked) < 200 and all(a == 10 for a in ctx.asked)
    assert len(d["looks"]) == len(ctx.asked) and d["looks"][-1]["n"] == d["n"]
    assert d["correct"] >= d["looks"][-1]["pass_at"] and d["lower_bound"] >= 0.8
    assert len(d["indices"]) == len(set(d["indices"])) == d["n"] and d["lenient"] == 0


def test_a_poor_program_fails_before_the_whole_sample() -> None:
    ctx = Scripted(accuracy(3))  # 67 %
    verdict = task4_accuracy(ctx, SETTINGS)
    assert verdict.outcome == "failed" and verdict.message.key == "classify.accuracy_failed"
    assert verdict.details["n"] < 200 and verdict.details["upper_bound"] < 0.8


def test_a_borderline_program_uses_the_whole_sample() -> None:
    ctx = Scripted(accuracy(6))  # 83 %: neither clearly above nor below 80 %
    verdict = task4_accuracy(ctx, SETTINGS)
    assert verdict.details["n"] == sum(ctx.asked) == 200


@pytest.mark.parametrize("template", ["Predicted: {d}\n", "予測: {d}\n", "[{d}]",
                                      "loading parameters…\nanswer = {d}\n"])
def test_a_digit_that_can_be_read_counts_and_the_message_says_so(template: str) -> None:
    verdict = task4_accuracy(Scripted(lambda i, y: printed(template.format(d=y))), SETTINGS)
    assert verdict.outcome == "passed"
    assert verdict.details["lenient"] == verdict.details["n"] == verdict.message.params["lenient"]
    assert verdict.details["invalid"] == 0 and verdict.details["lenient_example"]


@pytest.mark.parametrize("text", ["{d}.0", "index 5 -> {d}", "{d}{d}", "", "seven"])
def test_ambiguous_answers_are_not_guessed(text: str) -> None:
    verdict = task4_accuracy(Scripted(lambda i, y: printed(text.format(d=y))), SETTINGS)
    assert verdict.outcome == "failed" and verdict.message.key == "classify.accuracy_unreadable"
    assert verdict.details["invalid"] == verdict.details["n"]


def test_a_hang_stops_the_test_and_is_reported_as_a_timeout() -> None:
    def reply(i: int, y: int) -> RunResult:
        if i == hang_at:
            return RunResult(None, "", "", True, 30.0, False)
        return printed(f"{y}\n")  # all right, but 20 images cannot decide yet

    ctx = Scripted(lambda i, y: printed(f"{y}\n"))
    order = task4_accuracy(ctx, SETTINGS).details["indices"]
    hang_at = order[14]  # in the second round
    ctx = Scripted(reply)
    verdict = task4_accuracy(ctx, SETTINGS)
    assert verdict.outcome == "timeout" and verdict.message.params["index"] == hang_at
    assert ctx.asked == [10, 10]


def test_no_finished_run_is_an_error_after_one_round() -> None:
    ctx = Scripted(lambda i, y: RunResult(1, "", "Traceback …", False, 0.1, False))
    verdict = task4_accuracy(ctx, SETTINGS)
    assert verdict.outcome == "error" and ctx.asked == [10]


def test_the_report_table_shows_the_bound_the_test_decided_by() -> None:
    from grader.report.model import _accuracy_table

    verdict = task4_accuracy(Scripted(accuracy(20)), SETTINGS)
    table = _accuracy_table(verdict.details, "en")
    rows = {row[0].text: row[1].text for row in table.rows}
    d = verdict.details
    assert rows["Correct / sample size"] == f"{d['correct']} / {d['n']}"
    assert rows["Lower confidence bound (sequential test, 95% confidence)"] == (
        f"{100 * d['lower_bound']:.1f}%")
    assert rows["Verdict"] == "✅ lower bound ≥ threshold"
