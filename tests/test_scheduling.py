"""Checks side by side: lanes in dependency order, a shared cap on processes, shared results
computed once per key, and a workspace for task 3 that the other programs cannot write to.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from grader.checks.base import Context, Slots
from grader.grade import _lanes, grade

WAIT_S = 60  # generous: only a deadlock would take this long


def test_lanes_put_what_is_read_after_what_writes_it() -> None:
    ids = ["task4.accuracy", "A1.relu.forward", "task1.output_format", "task3.learning",
           "task2.cross_entropy", "task4.output_format", "report.rubric"]
    chain, others, api = _lanes(ids)
    assert chain == ["task3.learning", "task4.accuracy", "task4.output_format"]
    assert others == ["task1.output_format", "task2.cross_entropy"]
    assert api == ["A1.relu.forward", "report.rubric"]


def test_a_free_slot_goes_to_the_urgent_waiter_first() -> None:
    slots, order = Slots(1), []

    def take(name: str, urgent: bool) -> None:
        with slots.hold(urgent):
            order.append(name)

    with slots.hold():
        urgent = threading.Thread(target=take, args=("urgent", True))
        urgent.start()
        while slots._urgent_waiting == 0:  # until the urgent one waits
            urgent.join(0.01)
        other = threading.Thread(target=take, args=("other", False))
        other.start()
    for t in (urgent, other):
        t.join(WAIT_S)
    assert order == ["urgent", "other"]


def test_slots_bound_how_many_hold_at_once() -> None:
    slots, lock = Slots(2), threading.Lock()
    inside, most = 0, 0
    barrier = threading.Barrier(6)

    def work() -> None:
        nonlocal inside, most
        barrier.wait(WAIT_S)
        for _ in range(50):
            with slots.hold():
                with lock:
                    inside += 1
                    most = max(most, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert 1 <= most <= 2


def test_once_computes_each_key_once_and_keys_side_by_side() -> None:
    ctx = Context(None, None, None, None, snapshot=Path("/nonexistent"))  # type: ignore[arg-type]
    b_started, calls = threading.Event(), []

    def slow_a() -> str:
        calls.append("a")
        assert b_started.wait(WAIT_S), "key b waited for key a"
        return "A"

    def b() -> str:
        calls.append("b")
        b_started.set()
        return "B"

    results = {}
    ta = threading.Thread(target=lambda: results.setdefault("a", ctx.once("a", slow_a)))
    ta.start()
    while "a" not in calls:
        ta.join(0.01)
    results["b"] = ctx.once("b", b)
    ta.join(WAIT_S)
    assert results == {"a": "A", "b": "B"}
    assert ctx.once("a", slow_a) == "A" and calls == ["a", "b"]


@pytest.mark.slow
def test_files_other_programs_write_are_not_credited_to_task3(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    # task 2 leaves a file behind; task 3 prints falling losses but saves nothing.
    (sub / "task2.py").write_text("import numpy as np\nnp.savez('cache.npz', a=1)\n"
                                  "print(2.3)\n")
    (sub / "task3.py").write_text("for loss in (2.3, 1.0, 0.5):\n    print(loss)\n")
    plan = tmp_path / "plan.toml"
    plan.write_text("[plan]\nname = 't'\n[seeds]\n[limits]\nwall_s = 300\ncpu_s = 60\n"
                    "[checks.\"task2.cross_entropy\"]\n[checks.\"task3.params_saved\"]\n")
    doc = grade(sub, tmp_path / "out", plan_path=plan)
    got = {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}
    assert got == {"task2.cross_entropy": "passed", "task3.params_saved": "failed"}


def test_only_the_chain_runs_in_the_main_workspace() -> None:
    main, side = object(), object()
    ctx = Context(None, main, None, None, side_sandbox=side,
                  snapshot=Path("/nonexistent"))  # type: ignore[arg-type]
    assert ctx.sandbox_for("task3") is ctx.sandbox_for("task4") is main
    assert ctx.sandbox_for("task1") is ctx.sandbox_for("task2") is ctx.sandbox_for(None) is side
