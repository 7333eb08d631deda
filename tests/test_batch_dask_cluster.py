"""Acceptance: batch grading on a real Dask cluster that shares no folder with the client.

The scheduler and two workers are separate processes; the workers live in a mount
namespace in which the class folder and the output folder do not exist. Every submission
must come back with the local pool's verdicts, also when a worker is killed mid-batch;
losing the scheduler stops the batch (exit 3) with every finished result kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.batch import run_batch
from grader.results import read_results
from tests.conftest import ROOT
from tests.dask_cluster import Cluster

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

QUICK_PLAN = ROOT / "tests" / "plans" / "quick.toml"
DIGIT = "print(int(input()) % 10)\n"
LOSS = "print(2.3026)\n"
SLOW_LOSS = "import time\ntime.sleep(4)\nprint(2.3026)\n"

# Self-contained submissions (numpy and the standard library only), one per outcome.
CLASS = {
    "good": {"task1.py": DIGIT, "task2.py": LOSS},
    "badfmt": {"task1.py": "print('answer:', int(input()) % 10)\n", "task2.py": LOSS},
    "random": {"task1.py": "import os\nprint(os.urandom(1)[0] % 10)\n"},
    "crash": {"task1.py": "raise SystemExit(3)\n", "task2.py": "print('loss?')\n"},
    "hang": {"task1.py": DIGIT, "task2.py": "while True:\n    pass\n"},
    "nested": {"task1.py": "from pkg.helper import answer\nprint(answer(int(input())))\n",
               "pkg/__init__.py": "", "pkg/helper.py": "def answer(i):\n    return i % 10\n",
               "task2.py": "import numpy as np\nprint(float(np.load('pkg/w.npy')[0]))\n"},
}


def write_class(root: Path, programs: dict[str, dict[str, str]]) -> None:
    for student, files in programs.items():
        for rel, text in files.items():
            (root / student / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / student / rel).write_text(text)


def make_class(root: Path) -> set[str]:
    """The class above, plus binary data, a zip, a notebook and an unsafe zip."""
    write_class(root, CLASS)
    import numpy as np

    np.save(root / "nested" / "pkg" / "w.npy", np.array([2.3026]))
    with zipfile.ZipFile(root / "zipped.zip", "w") as zf:
        zf.writestr("zipped/task1.py", DIGIT)
        zf.writestr("zipped/task2.py", LOSS)
    with zipfile.ZipFile(root / "evil.zip", "w") as zf:
        zf.writestr("../../escaped.py", "print('out')\n")
    (root / "nb").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\n" + DIGIT)]
    nbformat.write(nb, root / "nb" / "task1.ipynb")
    return {*CLASS, "zipped", "evil", "nb"}


def events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "events.jsonl").read_text("utf-8").splitlines()]


def last_run(out: Path) -> list[dict]:
    """The events of the latest batch run in ``out`` (its skips come before its start)."""
    log = events(out)
    i = max(i for i, e in enumerate(log) if e["event"] == "start")
    while i > 0 and log[i - 1]["event"] == "skip":
        i -= 1
    return log[i:]


def verdicts(out: Path, student: str) -> tuple:
    """What a grade is: the score, each check's score and status, and any error."""
    doc = read_results(out / student / "results.json")
    return (doc["score"], [(t["name"], t["score"], t.get("status")) for t in doc["tests"]],
            doc["extra_data"].get("error", ""))


def batch_command(root: Path, out: Path, scheduler: str) -> list[str]:
    return [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out),
            "--plan", str(QUICK_PLAN), "--scheduler", scheduler]


def start_batch(root: Path, out: Path, scheduler: str) -> subprocess.Popen:
    return subprocess.Popen(batch_command(root, out, scheduler),
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_done(out: Path, proc: subprocess.Popen, n: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = out / "events.jsonl"
        if log.exists() and sum(e["event"] == "done" for e in events(out)) >= n:
            return
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} submissions graded in {timeout} s")


@pytest.fixture
def hidden(tmp_path: Path) -> Path:
    """The folder the workers cannot see: the class and the output live under it."""
    folder = tmp_path / "instructor"
    folder.mkdir()
    return folder


@pytest.fixture
def cluster(tmp_path: Path, hidden: Path):
    c = Cluster(hidden, tmp_path / "cluster-logs")
    yield c
    c.close()


def test_a_cluster_without_the_folders_grades_like_the_local_pool(
        hidden: Path, cluster: Cluster) -> None:
    root = hidden / "class"
    root.mkdir()
    students = make_class(root)
    assert cluster.sees(root) == [False, False], "the workers must not see the class folder"
    local = run_batch(root, hidden / "local", plan_path=QUICK_PLAN, jobs=2)
    # An archive with an unsafe path is refused before grading: a "not graded" record.
    assert set(local.graded) == students - {"evil"} and set(local.not_graded) == {"evil"}

    start = time.perf_counter()
    done = subprocess.run(batch_command(root, hidden / "dask", cluster.address),
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=600)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr + cluster.log("worker0")
    assert cluster.sees(hidden / "dask") == [False, False]
    for s in sorted(students):
        assert verdicts(hidden / "dask", s) == verdicts(hidden / "local", s), s
    scores = {s: verdicts(hidden / "local", s)[0] for s in students}
    assert scores["good"] == scores["zipped"] == scores["nested"] == 4
    assert scores["badfmt"] < 4 and scores["random"] < 4 and scores["hang"] < 4
    assert "unsafe path" in verdicts(hidden / "dask", "evil")[2]
    for s in students - {"evil"}:
        local_doc = read_results(hidden / "local" / s / "results.json")["extra_data"]
        doc = read_results(hidden / "dask" / s / "results.json")["extra_data"]
        assert doc["batch"]["host"], "graded on a worker"
        assert doc["sandbox"] == local_doc["sandbox"], "the workers' own sandbox works inside"
        # Staged zips and notebooks live in each output folder's .staging/.
        local_doc["submission"]["path"] = local_doc["submission"]["path"].replace(
            str(hidden / "local"), str(hidden / "dask"))
        for part in ("submission", "plan", "data"):
            assert doc[part] == local_doc[part], f"{s}: the client's {part}, not the worker's"
        assert (hidden / "dask" / s / "report.html").is_file()
    assert "\r" in done.stderr or "[" in done.stderr, "the progress line"
    print(f"\nDask batch of {len(students)} submissions on 2 workers: {seconds:.1f} s")

    # The resume rules are the local pool's: only what changed is graded again.
    (root / "badfmt" / "task1.py").write_text(DIGIT)
    again = subprocess.run(batch_command(root, hidden / "dask", cluster.address),
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    rerun = last_run(hidden / "dask")
    assert [e["student"] for e in rerun if e["event"] == "done"] == ["badfmt"]
    assert {e["student"] for e in rerun if e["event"] == "skip"} == students - {"badfmt"}
    assert verdicts(hidden / "dask", "badfmt")[0] == 4


def test_a_worker_killed_mid_batch_costs_a_retry_not_the_batch(
        hidden: Path, cluster: Cluster) -> None:
    root, out = hidden / "class", hidden / "out"
    students = {f"s{i}" for i in range(6)}
    write_class(root, {s: {"task1.py": DIGIT, "task2.py": SLOW_LOSS} for s in students})
    local = run_batch(root, hidden / "local", plan_path=QUICK_PLAN, jobs=2)
    assert set(local.graded) == students

    start = time.perf_counter()
    proc = start_batch(root, out, cluster.address)
    wait_for_done(out, proc, 1)
    time.sleep(1.5)  # both workers are into a submission (each takes more than 4 s)
    cluster.kill_worker(0)
    _, stderr = proc.communicate(timeout=600)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, stderr
    log = events(out)
    assert [e for e in log if e["event"] == "retry"], "the killed worker's submission"
    assert not [e for e in log if e["event"] == "error"]
    assert "grading it again" in stderr
    for s in students:
        assert verdicts(out, s) == verdicts(hidden / "local", s), s
    assert not (out / ".partial").exists()
    print(f"\nDask batch of 6, one of 2 workers killed: {seconds:.1f} s")


def test_losing_the_scheduler_stops_the_batch_and_keeps_what_finished(
        tmp_path: Path, hidden: Path, cluster: Cluster) -> None:
    root, out = hidden / "class", hidden / "out"
    students = {f"s{i}" for i in range(6)}
    write_class(root, {s: {"task1.py": DIGIT, "task2.py": SLOW_LOSS} for s in students})
    proc = start_batch(root, out, cluster.address)
    wait_for_done(out, proc, 1)
    cluster.kill_scheduler()
    killed = time.perf_counter()
    _, stderr = proc.communicate(timeout=120)
    print(f"\nthe batch stopped {time.perf_counter() - killed:.1f} s after the scheduler died")
    assert proc.returncode == 3, stderr
    assert "lost the Dask scheduler" in stderr and "Traceback" not in stderr
    finished = {e["student"] for e in events(out) if e["event"] == "done"}
    assert finished and finished < students
    for s in finished:
        assert verdicts(out, s)[0] == 4, "a finished result is kept whole"
    assert not (out / ".partial").exists()

    cluster.close()
    again = Cluster(hidden, tmp_path / "cluster-logs-2")
    try:
        rerun = subprocess.run(batch_command(root, out, again.address),
                               env={**os.environ, "PYTHONPATH": str(ROOT)},
                               capture_output=True, text=True, timeout=600)
    finally:
        again.close()
    assert rerun.returncode == 0, rerun.stderr
    second = last_run(out)
    assert {e["student"] for e in second if e["event"] == "skip"} == finished
    assert {e["student"] for e in second if e["event"] == "done"} == students - finished
