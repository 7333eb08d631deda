"""Fault injection: the grader killed at random points, a worker dying mid-grading, a full
disk. After a re-run every submission has exactly one complete result and nothing is
corrupt."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.batch.discover import discover
from grader.batch.executors import RETRIES, LocalExecutor, WorkerDied
from grader.batch.progress import EventLog
from grader.batch.run import recover
from grader.results import read_results
from tests.conftest import REFERENCE, ROOT

QUICK_PLAN = ROOT / "tests" / "plans" / "quick.toml"
FULL_SCORE = 4.0  # the quick plan: four checks of one point


def events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "events.jsonl").read_text("utf-8").splitlines()]


def make_class(root: Path, n: int) -> list[str]:
    students = [f"s{i}" for i in range(n)]
    for s in students:
        shutil.copytree(REFERENCE, root / s)
    return students


def batch_command(root: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out),
            "--plan", str(QUICK_PLAN), "--jobs", "2"]


def start_batch(root: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(batch_command(root, out), env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish_batch(root: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(batch_command(root, out), env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)


def assert_one_complete_result_each(out: Path, students: list[str]) -> None:
    for s in students:
        doc = read_results(out / s / "results.json")  # validates the whole document
        assert doc["score"] == FULL_SCORE, f"{s}: {doc['extra_data'].get('error')}"
        assert (out / s / "report.html").is_file() and (out / s / "report.md").is_file()
    leftovers = [p.name for p in out.iterdir()
                 if p.name.startswith((".old-", ".partial")) or p.name.endswith(".tmp")]
    assert not leftovers, leftovers
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
                  ) == students, "one result folder per student, no duplicates"


# --- the pieces, without a real batch -------------------------------------------------------

def test_recover_puts_back_a_result_whose_replacement_never_came(tmp_path: Path) -> None:
    (tmp_path / ".old-s1-123").mkdir()
    (tmp_path / ".old-s1-123" / "results.json").write_text("{}")
    (tmp_path / "s2").mkdir()
    (tmp_path / ".old-s2-77").mkdir()
    (tmp_path / ".partial" / "s3-9").mkdir(parents=True)
    recover(tmp_path)
    assert (tmp_path / "s1" / "results.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s1", "s2"]


def test_event_log_drops_a_line_cut_by_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "start"}\n{"event": "done", "stud')
    with EventLog(path) as log:
        log.write("skip", student="s1")
    assert [e["event"] for e in events(tmp_path)] == ["start", "skip"]


def _dies_the_first_time(marker: str) -> str:
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return marker


def _always_dies(_: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_local_executor_regrades_what_a_dead_worker_was_running(tmp_path: Path) -> None:
    tasks = [str(tmp_path / f"marker{i}") for i in range(3)]
    retried: list[str] = []
    executor = LocalExecutor(1, on_retry=retried.append)
    try:
        results = dict(executor.run(_dies_the_first_time, tasks))
    finally:
        executor.close()
    assert results == {t: t for t in tasks}, "every task answered, after its retry"
    assert sorted(retried) == tasks, "each task's first worker died, so each was retried once"


def test_local_executor_gives_up_on_a_task_that_always_dies(tmp_path: Path) -> None:
    executor = LocalExecutor(1)
    try:
        [(task, result)] = list(executor.run(_always_dies, ["x"]))
    finally:
        executor.close()
    assert task == "x" and isinstance(result, WorkerDied)
    assert f"died {RETRIES + 1} times" in str(result)


# --- real batches, killed and resumed -------------------------------------------------------

@pytest.mark.slow
def test_grader_killed_at_random_points_loses_nothing(tmp_path: Path) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    students = make_class(root, 6)
    rng = np.random.default_rng(20261128)
    kills = []
    for round_ in range(4):
        proc = start_batch(root, out)
        delay = float(rng.uniform(0.5, 18.0))
        time.sleep(delay)
        # Every other round kills only the main process: its pool workers must not outlive
        # it and publish behind the next run's back.
        if round_ % 2:
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        kills.append(round(delay, 1))
    done = finish_batch(root, out)
    assert done.returncode == 0, done.stderr
    assert_one_complete_result_each(out, students)
    finished = [e["student"] for e in events(out) if e["event"] == "done"]
    assert len(finished) == len(set(finished)), f"graded twice (kills at {kills} s)"


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc/*/stat: every kernel has it)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        if entry.name.isdigit() and int(stat[stat.rfind(b")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _pool_workers(pid: int) -> list[int]:
    mine = Path(f"/proc/{pid}/cmdline").read_bytes()
    workers = []
    for child in _children(pid):
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() == mine:
                workers.append(child)
        except FileNotFoundError:
            continue
    return workers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_worker_killed_mid_grading_is_graded_again_in_the_same_run(tmp_path: Path) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    root.mkdir()
    students = make_class(root, 4)
    proc = start_batch(root, out)
    deadline = time.monotonic() + 300
    # A pool worker with a sandboxed program running is grading a submission right now
    # (a fixed sleep would race the grading: too early, too late, or between two).
    busy = []
    while not busy:
        assert time.monotonic() < deadline and proc.poll() is None, "the batch never started"
        busy = [w for w in _pool_workers(proc.pid) if _children(w)]
        time.sleep(0.05)
    os.kill(busy[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    log = events(out)
    assert any(e["event"] == "retry" for e in log), "the dead worker's submission was retried"
    assert not [e for e in log if e["event"] == "error"]
    assert "grading it again" in stderr
    assert_one_complete_result_each(out, students)


def _can_mount_tmpfs(where: Path, size: str = "256k") -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                        capture_output=True).returncode == 0
    return ok


def test_a_zip_staged_on_a_full_disk_is_not_held_against_the_student(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    if not _can_mount_tmpfs(staging, "8k"):
        pytest.skip("simulating a full disk needs root and a tmpfs mount")
    try:
        root = tmp_path / "class"
        root.mkdir()
        with zipfile.ZipFile(root / "s1.zip", "w") as zf:
            zf.writestr("task1.py", "print(1)\n" * 20_000)
        with pytest.raises(OSError) as caught:
            discover(root, staging)
        assert caught.value.errno == errno.ENOSPC
    finally:
        subprocess.run(["umount", "-l", str(staging)], check=False)


@pytest.mark.slow
def test_full_disk_stops_the_batch_cleanly_and_a_rerun_completes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    if not _can_mount_tmpfs(out):
        pytest.skip("simulating a full disk needs root and a tmpfs mount")
    try:
        root = tmp_path / "class"
        root.mkdir()
        students = make_class(root, 6)
        full = finish_batch(root, out)
        assert full.returncode == 3, full.stderr
        assert "no space left" in full.stderr and "Traceback" not in full.stderr
        for result in out.glob("*/results.json"):
            read_results(result)  # whatever was published is whole
        assert not list(out.glob(".partial*"))
        subprocess.run(["mount", "-o", "remount,size=64m", str(out)], check=True)
        done = finish_batch(root, out)
        assert done.returncode == 0, done.stderr
        assert_one_complete_result_each(out, students)
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)
