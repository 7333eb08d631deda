"""Batch grading: discovery, both executors, resume, and a kill in the middle."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.batch import run_batch
from grader.batch.discover import discover
from grader.results import read_results
from tests.conftest import EXAMPLES, REFERENCE, ROOT

QUICK_PLAN = ROOT / "tests" / "plans" / "quick.toml"


def make_class(root: Path, n_reference: int = 2) -> Path:
    """A small class: reference copies, known-bad ones, a zip, a notebook, a hostile zip."""
    root.mkdir(parents=True)
    for i in range(n_reference):
        shutil.copytree(REFERENCE, root / f"ref{i}")
    shutil.copytree(EXAMPLES / "wrong_format_task1", root / "badfmt")
    shutil.copytree(EXAMPLES / "hanging_task2", root / "hang")
    with zipfile.ZipFile(root / "zipped.zip", "w") as zf:
        for p in [*REFERENCE.glob("task[12].py"), *(REFERENCE / "reference").rglob("*.py")]:
            zf.write(p, f"zipped/{p.relative_to(REFERENCE).as_posix()}")
    with zipfile.ZipFile(root / "evil.zip", "w") as zf:
        zf.writestr("../../escaped.py", "print('out')\n")
    return root


def events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]


def test_discover_stages_zips_and_refuses_unsafe_ones(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", n_reference=1)
    (root / "manifest.csv").write_text("path,student_id\nref0,s0001\n", encoding="utf-8-sig")
    entries = {e.student_id: e for e in discover(root, tmp_path / "staging")}
    assert set(entries) == {"s0001", "badfmt", "hang", "zipped", "evil"}
    assert sorted(p.name for p in entries["zipped"].folder.iterdir()) == [
        "reference", "task1.py", "task2.py"]
    assert entries["evil"].folder is None and "unsafe path" in entries["evil"].problem
    assert not (tmp_path / "escaped.py").exists()


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    from grader.batch.discover import ArchiveError, extract_zip

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (3 << 20))
    with pytest.raises(ArchiveError, match="more than 2 MB"):
        extract_zip(bomb, tmp_path / "x", max_bytes=2 << 20)


def test_batch_grades_everyone_once_and_resumes(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    out = tmp_path / "out"
    summary = run_batch(root, out, plan_path=QUICK_PLAN, jobs=2, junit=True)
    students = {"ref0", "ref1", "badfmt", "hang", "zipped", "evil"}
    assert set(summary.graded) == students - {"evil"} and not summary.failed
    assert set(summary.not_graded) == {"evil"} and "unsafe path" in summary.not_graded["evil"]
    docs = {s: read_results(out / s / "results.json") for s in students}
    assert docs["ref0"]["score"] == docs["zipped"]["score"] == 4
    assert docs["badfmt"]["score"] == 2 and docs["hang"]["score"] == 0
    assert "unsafe path" in docs["evil"]["extra_data"]["error"]
    assert (out / "ref0" / "report.html").is_file()
    junit = (out / "junit.xml").read_text()
    assert junit.count("<testsuite ") == 6 and 'name="task1.output_format"' in junit

    (root / "badfmt" / "task1.py").write_text((REFERENCE / "task1.py").read_text())
    shutil.copytree(REFERENCE / "reference", root / "badfmt" / "reference", dirs_exist_ok=True)
    again = run_batch(root, out, plan_path=QUICK_PLAN, jobs=2)
    assert again.graded == ["badfmt"] and set(again.skipped) == students - {"badfmt"}
    assert read_results(out / "badfmt" / "results.json")["score"] == 3  # task 2 absent


@pytest.mark.slow
def test_dask_executor_on_a_local_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    root = tmp_path / "class"
    root.mkdir()
    for name in ("a", "b", "c"):
        shutil.copytree(REFERENCE, root / name)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        summary = run_batch(root, tmp_path / "out", plan_path=QUICK_PLAN,
                            scheduler=cluster.scheduler_address)
    assert sorted(summary.graded) == ["a", "b", "c"] and not summary.failed
    assert all(read_results(tmp_path / "out" / s / "results.json")["score"] == 4 for s in "abc")
    assert events(tmp_path / "out")[0]["scheduler"].startswith("tcp://")


@pytest.mark.slow
def test_killed_batch_loses_nothing_and_grades_nothing_twice(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    for i in range(8):
        shutil.copytree(REFERENCE, root / f"s{i}")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--plan",
           str(QUICK_PLAN), "--jobs", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log = out / "events.jsonl"
        if log.exists() and sum(e["event"] == "done" for e in events(out)) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = events(out)
    finished_before = {e["student"] for e in first if e["event"] == "done"}
    assert 2 <= len(finished_before) < 8, "the kill should land mid-batch"

    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    second = events(out)[len(first):]
    done_again = {e["student"] for e in second if e["event"] == "done"}
    skipped = {e["student"] for e in second if e["event"] == "skip"}
    assert not done_again & finished_before, "a finished submission was graded twice"
    assert done_again | skipped == {f"s{i}" for i in range(8)}
    for i in range(8):
        assert read_results(out / f"s{i}" / "results.json")["score"] == 4
    assert not (out / ".partial").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".old-")]


def test_discover_follows_no_link_and_opens_no_pipe_in_the_class_folder(tmp_path: Path) -> None:
    """A link or a pipe where a submission should be is an entry with a reason, at once."""
    root = tmp_path / "class"
    root.mkdir()
    shutil.copytree(REFERENCE, root / "honest")
    (root / "alias").symlink_to(REFERENCE)
    (root / "linked.zip").symlink_to(tmp_path / "nowhere.zip")
    (root / "linked.ipynb").symlink_to("/etc/passwd")
    os.mkfifo(root / "pipe.zip")
    os.mkfifo(root / "pipe.ipynb")
    (root / "notes.txt").write_text("the instructor's, not a submission")
    entries = {e.source.name: e for e in discover(root, tmp_path / "staging")}
    assert set(entries) == {"honest", "alias", "linked.zip", "linked.ipynb", "pipe.zip",
                            "pipe.ipynb"}
    assert entries["honest"].folder == root / "honest" and not entries["honest"].problem
    refused = {name: e.problem for name, e in entries.items() if name != "honest"}
    assert all(entries[name].folder is None for name in refused)
    assert {name for name, why in refused.items() if "symbolic link" in why} == {
        "alias", "linked.zip", "linked.ipynb"}
    assert {name for name, why in refused.items() if "named pipe" in why} == {
        "pipe.zip", "pipe.ipynb"}
    assert not list((tmp_path / "staging").glob("*/*"))  # nothing was copied through them


def test_an_archive_nested_too_deep_is_refused(tmp_path: Path) -> None:
    from grader.batch.discover import ArchiveError, extract_zip

    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as zf:
        zf.writestr("a/" * 40 + "task1.py", "print(1)\n")
    with pytest.raises(ArchiveError, match="nested more than 32 levels deep"):
        extract_zip(deep, tmp_path / "x")
