"""The ablation issue's done-criteria on the shipped sweeps, every seed (slow: minutes).

The runs are cached in a folder shared by the tests of this module only.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from grader import submission
from grader.ablations import sweep
from grader.ablations.execute import Results, run_sweeps
from grader.ablations.runs import Source
from grader.ablations.summary import SweepStats, sweep_stats
from reference.data import load_mnist
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow
WANTED = ("overfit-dropout", "overfit-l2", "normal-optimizer")


def shipped(*ids: str) -> list[sweep.Sweep]:
    return [s for s in sweep.load() if s.id in ids]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ablations")


@pytest.fixture(scope="module")
def reference_results(out: Path) -> Results:
    return run_sweeps(shipped(*WANTED), [Source.reference()], load_mnist(), out,
                      os.cpu_count() or 1, None, io.StringIO())


def stats_of(results: Results, sweep_id: str, source: str = "reference") -> SweepStats:
    return sweep_stats(results.table, next(s for s in results.sweeps if s.id == sweep_id), source)


@pytest.mark.parametrize("sweep_id", ["overfit-l2", "overfit-dropout"])
def test_regularisation_shrinks_the_gap_when_the_network_overfits(
        reference_results: Results, sweep_id: str) -> None:
    stats = stats_of(reference_results, sweep_id)
    base = stats.baseline
    assert base is not None
    # Without regularisation the network memorises its 300 images.
    assert base.final("train_accuracy").mean > 0.99 and base.final("gap").mean > 0.15
    # Some level that still learns has a smaller gap in every seed (each seed pairs the
    # levels on the same weights and minibatches), by more than the spread over seeds.
    shrunk = [lv for lv in stats.finished if lv is not base
              and lv.final("test_accuracy").mean > 0.5
              and stats.smaller_gap(lv) == (3, 3)
              and lv.final("gap").mean < base.final("gap").mean - 0.03]
    assert shrunk, [(lv.level, lv.final("gap"), lv.final("test_accuracy")) for lv in stats.levels]


def test_the_six_optimizers_differ_as_expected(reference_results: Results) -> None:
    levels = {lv.level: lv for lv in stats_of(reference_results, "normal-optimizer").levels}
    loss = {kind: lv.final("train_loss").mean for kind, lv in levels.items()}
    # Momentum speeds plain SGD up; the adaptive step sizes of RMSProp, AdaDelta and Adam
    # faster still; AdaGrad's steps only shrink, so at η = 0.001 it stays slow.
    assert loss["momentum"] < loss["sgd"]
    for adaptive in ("rmsprop", "adadelta", "adam"):
        assert loss[adaptive] < loss["momentum"] < loss["adagrad"]
    assert levels["sgd"].to_target is None and levels["adagrad"].to_target is None
    assert max(levels[k].to_target for k in ("rmsprop", "adadelta", "adam")) \
        < levels["momentum"].to_target


def test_the_optimizer_sweep_runs_on_a_dlfs_submission(
        reference_results: Results, out: Path) -> None:
    dlfs = Source.of_submission(submission.load(EXAMPLES / "dlfs_style"), None)
    results = run_sweeps(shipped("normal-optimizer"), [Source.reference(), dlfs], load_mnist(),
                         out, os.cpu_count() or 1, None, io.StringIO())
    ref = {lv.level: lv for lv in stats_of(results, "normal-optimizer").levels}
    sub = {lv.level: lv for lv in stats_of(results, "normal-optimizer", "submission").levels}
    assert sub["adadelta"].status == "not_available" and sub["adadelta"].n == 0
    assert all(sub[k].status == "ok" and sub[k].n == 3 for k in sub if k != "adadelta")
    # SGD and Momentum are the same update in both; the rest differ in details (ε, bias
    # correction), not in what they achieve.
    for kind in ("sgd", "momentum"):
        assert sub[kind].final("train_loss").mean == pytest.approx(
            ref[kind].final("train_loss").mean, rel=1e-3)
    for kind in sub.keys() - {"adadelta"}:
        assert abs(sub[kind].final("test_accuracy").mean
                   - ref[kind].final("test_accuracy").mean) < 0.02
