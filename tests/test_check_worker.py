"""One check worker per submission: reused across checks, fresh objects for each, and a
worker that hangs, burns its CPU budget, floods its output or dies costs one check only.

The limits that the hanging cases hit are CPU seconds (a busy loop reaches them after the
same CPU time on an idle or a loaded machine) or a sleep that never ends; the honest
checks around them have a wall clock of minutes, so machine load cannot fail them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import api_client
from grader.api_client import CheckWorker
from grader.sandbox import Limits, Sandbox
from grader.sandbox.live import LiveProcess
from grader.sandbox.tools import install_tools
from tests.conftest import needs_bwrap

ADAPTER = '''
import os, sys, threading, time
import numpy as np

class Relu:
    params, grads = {}, {}
    def forward(self, x, train=False):
        print("relu forward", file=sys.stderr)
        self.mask = x > 0
        return x * self.mask
    def backward(self, dout):
        return dout * self.mask

class Spin:
    """Burns CPU on three threads: only a CPU budget stops it soon."""
    params, grads = {}, {}
    def forward(self, x, train=False):
        def spin():
            while True:
                pass
        for _ in range(2):
            threading.Thread(target=spin, daemon=True).start()
        spin()

class Exit:
    params, grads = {}, {}
    def forward(self, x, train=False):
        os._exit(7)

class Flood:
    params, grads = {}, {}
    def forward(self, x, train=False):
        return np.zeros((1 << 18,))  # 2 MB of float64: over the (test's) 1 MB answer cap

LAYERS = {"relu": lambda p, c: Relu(), "sigmoid": lambda p, c: Spin(),
          "affine": lambda p, c: Exit(), "dropout": lambda p, c: Flood()}
'''

X = np.array([[-1.0, 2.0], [3.0, -4.0]])
RELU = [{"op": "layer", "kind": "relu", "params": {}, "config": {}},
        {"op": "forward", "x": X, "train": False, "project": None}]
KINDS = [False, pytest.param(None, marks=needs_bwrap)]


def make_worker(tmp_path: Path, use_bwrap: bool | None, **limits: float) -> CheckWorker:
    ws, tools = tmp_path / "ws", tmp_path / "tools"
    ws.mkdir()
    (ws / "le4nn_adapter.py").write_text(ADAPTER)
    install_tools(tools)
    sandbox = Sandbox(ws, None, use_bwrap, tools_dir=tools)
    return CheckWorker(sandbox, Limits(**{"wall_s": 300.0, "cpu_s": 60, **limits}))


def kind(name: str) -> list[dict]:
    return [{"op": "layer", "kind": name, "params": {}, "config": {}},
            {"op": "forward", "x": X, "train": False, "project": None}]


def assert_relu_works(worker: CheckWorker) -> None:
    ans = worker.exchange(RELU)
    assert ans.complete and ans.first_error() is None and ans.run.ok
    assert np.array_equal(ans.answers[1]["y"], np.maximum(X, 0))


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_one_worker_serves_every_check(tmp_path: Path, use_bwrap: bool | None) -> None:
    worker = make_worker(tmp_path, use_bwrap)
    try:
        for _ in range(4):
            assert_relu_works(worker)
        assert worker.started == 1
    finally:
        worker.close()


def test_each_check_starts_from_fresh_objects(tmp_path: Path) -> None:
    worker = make_worker(tmp_path, False)
    try:
        assert_relu_works(worker)
        # No "layer" request: the layer of the check before must not be there any more.
        ans = worker.exchange([{"op": "forward", "x": X, "train": False, "project": None}])
        assert ans.complete and "NoneType" in ans.first_error()["error"]
        assert worker.started == 1
    finally:
        worker.close()


def test_stderr_belongs_to_its_own_check(tmp_path: Path) -> None:
    worker = make_worker(tmp_path, False)
    try:
        first = worker.exchange(RELU)
        second = worker.exchange([{"op": "reset", "check": 0}])
        assert "relu forward" in first.run.stderr and "relu forward" not in second.run.stderr
    finally:
        worker.close()


@pytest.mark.parametrize("use_bwrap", KINDS)
def test_a_cpu_burning_check_times_out_and_the_next_gets_a_new_worker(
        tmp_path: Path, use_bwrap: bool | None) -> None:
    worker = make_worker(tmp_path, use_bwrap, cpu_s=2)
    try:
        assert_relu_works(worker)
        ans = worker.exchange(kind("sigmoid"))
        assert not ans.complete and ans.run.timed_out and ans.run.describe_failure() == "timeout"
        assert_relu_works(worker)
        assert worker.started == 2
    finally:
        worker.close()


def test_a_worker_that_exits_costs_its_check_only(tmp_path: Path) -> None:
    worker = make_worker(tmp_path, False)
    try:
        ans = worker.exchange(kind("affine"))
        assert len(ans.answers) == 1 and not ans.complete and not ans.run.timed_out
        assert ans.run.describe_failure() == "exit code 7"
        assert_relu_works(worker)
        assert worker.started == 2
    finally:
        worker.close()


def test_an_answer_over_the_cap_is_cut_and_the_worker_replaced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_client, "ANSWER_BYTES", 1 << 20)
    worker = make_worker(tmp_path, False)
    try:
        ans = worker.exchange(kind("dropout"))
        assert len(ans.answers) == 1 and not ans.complete and ans.run.truncated
        assert_relu_works(worker)
    finally:
        worker.close()


def test_a_sleeping_exchange_is_killed_at_its_wall_clock_limit(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, None, False)
    echo = ("import sys, time\n"
            "for line in sys.stdin:\n"
            "    if 'sleep' in line:\n"
            "        time.sleep(3600)\n"
            "    print(line.strip(), flush=True)\n")
    (tmp_path / "echo.py").write_text(echo)
    process = LiveProcess(sandbox, ["python", "echo.py"], Limits())
    got = process.exchange(b"a\nb\n", 2, wall_s=300, cpu_s=60, byte_cap=1 << 20)
    assert got.lines == [b"a", b"b"] and got.ended is None and process.alive
    got = process.exchange(b"c\nsleep\nd\n", 3, wall_s=1.0, cpu_s=60, byte_cap=1 << 20)
    assert got.lines == [b"c"] and got.ended == "timeout" and not process.alive


def test_output_over_the_byte_cap_ends_the_exchange(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, None, False)
    flood = "import sys\nsys.stdin.readline()\nsys.stdout.write('x' * 10**6)\n"
    (tmp_path / "flood.py").write_text(flood)
    process = LiveProcess(sandbox, ["python", "flood.py"], Limits())
    got = process.exchange(b"go\n", 1, wall_s=300, cpu_s=60, byte_cap=1000)
    assert got.ended == "output" and got.lines == [] and not process.alive
