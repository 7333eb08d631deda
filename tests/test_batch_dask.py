"""The pieces of grading on a Dask cluster: what travels, what comes back, the checks of
the workers, and the executor's handling of workers that die.

The whole path, on separate processes with no shared folder, is in
``tests/test_batch_dask_cluster.py``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import distributed
import numpy as np
import pytest

from grader import __version__, plan, submission
from grader.batch import executors, remote
from grader.batch.executors import RETRIES, ClusterError, DaskExecutor, WorkerDied
from grader.batch.run import GradeTask, batch_key, error_results, grade_one
from grader.grade import known_checks
from grader.plan import PlanError
from grader.results import ResultsError, read_results
from reference.data import Dataset, read_mnist_dir
from tests.conftest import ROOT

QUICK_PLAN = ROOT / "tests" / "plans" / "quick.toml"


def tiny_dataset(value: int = 0) -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = value
    labels = (np.arange(20) % 10).astype(np.uint8)
    return Dataset(images, labels, images[:10].copy(), labels[:10].copy(), "tiny test set")


def task_for(folder: Path, out: Path, student: str = "s1") -> GradeTask:
    return GradeTask(student, str(folder), "", str(out), "k" * 64, str(QUICK_PLAN), None,
                     "en", None)


@pytest.fixture
def courier() -> remote.Courier:
    return remote.Courier(plan.load(QUICK_PLAN, known_checks), tiny_dataset())


# --- what travels ----------------------------------------------------------------------------

def test_a_parcel_carries_the_files_the_local_pool_would_copy(
        tmp_path: Path, courier: remote.Courier) -> None:
    sub = tmp_path / "s1"
    (sub / "pkg").mkdir(parents=True)
    (sub / "task1.py").write_text("print(1)\n")
    (sub / "pkg" / "w.bin").write_bytes(bytes(range(256)))
    (sub / "__pycache__").mkdir()
    (sub / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (sub / "passwd.py").symlink_to("/etc/passwd")
    parcel = courier.pack(task_for(sub, tmp_path / "out"))
    assert dict(parcel.files) == {"task1.py": b"print(1)\n", "pkg/w.bin": bytes(range(256))}
    assert parcel.shown_path == str(sub.resolve()) and parcel.task.problem == ""
    assert parcel.plan.text == QUICK_PLAN.read_bytes() and parcel.plan.shown == str(QUICK_PLAN)
    assert parcel.data_id == remote.data_id(tiny_dataset())
    assert parcel.grader_version == __version__


def test_a_submission_over_the_size_cap_does_not_travel(
        tmp_path: Path, courier: remote.Courier, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "big"
    sub.mkdir()
    (sub / "task1.py").write_bytes(b"#" * 4096)
    monkeypatch.setattr(submission, "MAX_BYTES", 1024)
    parcel = courier.pack(task_for(sub, tmp_path / "out"))
    assert parcel.files is None
    assert "more than 2000 files or 0 MB" in parcel.task.problem


def test_an_unstaged_submission_travels_with_its_problem_only(
        tmp_path: Path, courier: remote.Courier) -> None:
    task = replace(task_for(tmp_path, tmp_path / "out"), folder="",
                   problem="evil.zip: unsafe path '../x'")
    parcel = courier.pack(task)
    assert parcel.files is None and parcel.task.problem == "evil.zip: unsafe path '../x'"


def test_the_data_identity_is_the_content(tmp_path: Path) -> None:
    assert remote.data_id(tiny_dataset()) == remote.data_id(tiny_dataset())
    assert remote.data_id(tiny_dataset()) != remote.data_id(tiny_dataset(value=7))


def test_plan_files_travel_with_their_check_modules(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "extra_dask_probe.py").write_text(
        "from grader.checks.base import check, passed\n"
        "@check('task1.dask_probe', program='task1')\n"
        "def probe(ctx, settings):\n"
        "    return passed('check.not_attempted', program='x')\n")
    path = tmp_path / "hidden.toml"
    path.write_text("[plan]\nvisibility = 'hidden'\ncheck_modules = ['checks/extra_dask_probe.py']"
                    "\n[seeds]\n[checks.'task1.dask_probe']\n")
    files = remote.PlanFiles.read(plan.load(path, known_checks))
    laid_out = files.write(tmp_path / "worker")
    assert laid_out.name == "hidden.toml" and laid_out.read_bytes() == path.read_bytes()
    assert (tmp_path / "worker" / "checks" / "extra_dask_probe.py").is_file()
    # This process imported the module above: the same content is no reason to refuse …
    files.remember_modules()
    assert files.stale_modules() == []
    # … other content under the same name is: the worker would grade with the old one.
    changed = replace(files, modules=(("checks/extra_dask_probe.py", b"# changed\n"),))
    assert changed.stale_modules() == ["checks/extra_dask_probe.py"]


def test_a_check_module_outside_the_plan_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside_dask_probe.py").write_text("\n")
    (tmp_path / "plans").mkdir()
    path = tmp_path / "plans" / "p.toml"
    path.write_text("[plan]\ncheck_modules = ['../outside_dask_probe.py']\n[seeds]\n[checks]\n")
    with pytest.raises(PlanError, match="lies outside the plan's folder"):
        remote.PlanFiles.read(plan.load(path, known_checks))


# --- on the worker ---------------------------------------------------------------------------

def test_the_data_is_written_once_per_worker_and_read_back_the_same(tmp_path: Path) -> None:
    worker = SimpleNamespace(local_directory=str(tmp_path), address="tcp://w:1")
    data = tiny_dataset()
    plugin = remote.DataOnWorkers(data, remote.data_id(data), "le4nn-data-test")
    plugin.setup(worker)
    assert plugin.dataset is None, "the worker keeps the files, not the arrays"
    back = read_mnist_dir(tmp_path / "le4nn-data-test")
    assert remote.data_id(back) == remote.data_id(data)
    plugin.teardown(worker)
    assert not (tmp_path / "le4nn-data-test").exists()


def test_data_that_arrived_changed_is_refused(tmp_path: Path) -> None:
    worker = SimpleNamespace(local_directory=str(tmp_path), address="tcp://w:1")
    plugin = remote.DataOnWorkers(tiny_dataset(7), remote.data_id(tiny_dataset()), "d")
    with pytest.raises(remote.WorkerMismatch, match="arrived changed"):
        plugin.setup(worker)


def test_a_worker_with_another_grader_refuses_to_grade(
        tmp_path: Path, courier: remote.Courier) -> None:
    (tmp_path / "s1").mkdir()
    parcel = replace(courier.pack(task_for(tmp_path / "s1", tmp_path / "out")),
                     grader_version="0.0.0-other")
    with pytest.raises(remote.WorkerMismatch, match="runs grader"):
        remote.grade_parcel(parcel)


class FakeCluster:
    """Answers :meth:`DaskExecutor.on_workers` with given facts (the check's logic only)."""

    def __init__(self, facts: dict[str, dict]) -> None:
        self.facts = facts

    def on_workers(self, fn):
        return self.facts


def test_workers_unlike_the_client_are_refused_up_front(courier: remote.Courier) -> None:
    ok = {"version": __version__, "host": "a", "bwrap": [True, "bwrap"], "stale": []}
    reduced = {**ok, "host": "b", "bwrap": [False, "bwrap not installed"]}
    notes = remote.check_workers(FakeCluster({"tcp://a:1": ok, "tcp://b:1": reduced}),
                                 courier.plan, allow_reduced=True)
    assert notes == ["worker tcp://b:1 (b): reduced isolation — bwrap not installed"]
    with pytest.raises(ClusterError, match=r"tcp://b:1 \(b\) would grade with reduced "
                                           r"isolation \(bwrap not installed; apt-get install "
                                           r"bubblewrap there, or pass --allow-reduced"):
        remote.check_workers(FakeCluster({"tcp://a:1": ok, "tcp://b:1": reduced}), courier.plan)
    old = {**ok, "host": "c", "version": "0.0.1"}
    with pytest.raises(ClusterError, match=r"tcp://c:1 \(c\) runs grader 0.0.1"):
        remote.check_workers(FakeCluster({"tcp://a:1": ok, "tcp://c:1": old}), courier.plan)


# --- what comes back -------------------------------------------------------------------------

def returned(doc: dict, **more: bytes) -> remote.Returned:
    files = {"results.json": json.dumps(doc).encode(), **more}
    return remote.Returned({"score": doc["score"]}, tuple(files.items()))


def test_a_returned_result_is_published_whole(tmp_path: Path, courier: remote.Courier) -> None:
    out = tmp_path / "out"
    task = task_for(tmp_path / "s1", out)
    summary = courier.receive(task, returned(error_results("s1", "x"),
                                             **{"figures/a.png": b"\x89PNG"}))
    assert summary == {"score": 0.0}
    assert read_results(out / "s1" / "results.json")["extra_data"]["error"] == "x"
    assert (out / "s1" / "figures" / "a.png").read_bytes() == b"\x89PNG"


@pytest.mark.parametrize("bad", ["path", "results"])
def test_a_bad_return_is_not_published_and_the_old_result_stays(
        bad: str, tmp_path: Path, courier: remote.Courier) -> None:
    out = tmp_path / "out"
    task = task_for(tmp_path / "s1", out)
    courier.receive(task, returned(error_results("s1", "old")))
    answer = (returned(error_results("s1", "new"), **{"../escaped": b"x"}) if bad == "path"
              else remote.Returned({}, (("results.json", b'{"score": 1}'),)))
    with pytest.raises(ResultsError):
        courier.receive(task, answer)
    assert read_results(out / "s1" / "results.json")["extra_data"]["error"] == "old"
    assert not (tmp_path / "escaped").exists() and not (out / "escaped").exists()


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"
                                           r".* start it with `dask scheduler`"):
        DaskExecutor("tcp://127.0.0.1:9")


# --- slow: grading, and workers that die -----------------------------------------------------

@pytest.mark.slow
def test_a_parcel_graded_on_a_worker_matches_the_local_pool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reference.data import load_mnist

    sub = tmp_path / "class" / "s1"
    sub.mkdir(parents=True)
    (sub / "task1.py").write_text("print(int(input()) % 10)\n")
    (sub / "task2.py").write_text("print('loss', 2.3)\n")
    dataset = load_mnist()
    key = batch_key(submission.load(sub).sha256, "p", dataset.source, "en")
    task = replace(task_for(sub, tmp_path / "local"), key=key)
    local = grade_one(task)

    courier = remote.Courier(plan.load(QUICK_PLAN, known_checks), dataset)
    worker = SimpleNamespace(local_directory=str(tmp_path / "worker"), address="tcp://w:1")
    (tmp_path / "worker").mkdir()
    remote.DataOnWorkers(dataset, courier.data_id, courier.data_plugin).setup(worker)
    answer = remote.grade_parcel(courier.pack(replace(task, out_root=str(tmp_path / "out"))))
    courier.receive(replace(task, out_root=str(tmp_path / "out")), answer)

    here = read_results(tmp_path / "local" / "s1" / "results.json")
    there = read_results(tmp_path / "out" / "s1" / "results.json")
    assert answer.summary["score"] == local["score"] == 3
    assert [(t["name"], t["score"], t["status"]) for t in there["tests"]] == \
        [(t["name"], t["score"], t["status"]) for t in here["tests"]]
    for part in ("submission", "plan", "data", "sandbox"):
        assert there["extra_data"][part] == here["extra_data"][part], part
    assert there["extra_data"]["batch"]["key"] == key
    report = (tmp_path / "out" / "s1" / "report.html").read_text()
    assert str(sub.resolve()) in report and "le4nn-remote-" not in report


def _dies_the_first_time(marker: str) -> str:
    time.sleep(0.5)  # a task that dies while grading, not on arrival
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return marker


def _always_dies(_: str) -> None:
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def local_cluster():
    """Two worker processes under nannies, which start a new worker when one dies."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="kills its own worker with SIGKILL")
def test_a_dead_workers_task_is_retried_and_one_that_keeps_killing_them_gives_up(
        tmp_path: Path, local_cluster: str) -> None:
    retried: list[str] = []
    executor = DaskExecutor(local_cluster, on_retry=retried.append)
    try:
        tasks = [str(tmp_path / f"marker{i}") for i in range(2)]
        assert dict(executor.run(_dies_the_first_time, tasks)) == {t: t for t in tasks}
        assert sorted(retried) == tasks, "each task's first worker died: one retry each"
        retried.clear()
        [(task, result)] = list(executor.run(_always_dies, ["x"]))
    finally:
        executor.close()
    assert task == "x" and isinstance(result, WorkerDied)
    assert f"died {RETRIES + 1} times" in str(result) and retried == ["x"] * RETRIES
