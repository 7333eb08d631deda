"""Ablations that train (tiny sweeps): both trainers, the sandbox path, the cache, the CLI, the
report."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader import submission
from grader.ablations import report, runs, store, sweep
from grader.ablations.cli import main_ablations
from grader.ablations.data import prepare
from grader.ablations.execute import RUNS_DIR, run_sweeps
from grader.ablations.runs import RunTask, Source
from grader.sandbox.tools import install_tools
from reference.data import load_mnist
from tests.conftest import EXAMPLES, REFERENCE

TINY = """
[regime]
name = "tiny"
train_size = 100
test_size = 100
seeds = [0, 1, 2]
epochs = 2
network = {hidden = [16]}
optimizer = {kind = "sgd", lr = 0.1}

[[sweep]]
factor = "dropout"
levels = [0.0, 0.2]

[[sweep]]
factor = "optimizer"
levels = ["sgd", "adadelta"]
"""
DLFS = EXAMPLES / "dlfs_style"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweeps") / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def train_one(tmp_path: Path, tiny: Path, source: Source, level: object) -> store.RunOutcome:
    """Train the tiny sweep's run at ``level`` (of the sweep whose levels hold it), seed 1."""
    s = next(s for s in sweep.load_file(tiny) if level in s.levels)
    data = prepare(load_mnist(), s.regime, tmp_path / "data")
    tools = tmp_path / "tools"
    install_tools(tools)
    setup = s.setup(level)
    key = store.run_key(runs.identity(setup, 1, data, source))
    return runs.perform(RunTask(key, setup, 1, data, source, tmp_path / "runs", tools, key))


def column(outcome: store.RunOutcome, name: str) -> np.ndarray:
    return np.array([m[name] for m in outcome.metrics])


def test_the_reference_adapter_in_the_sandbox_trains_like_the_reference(
        tmp_path: Path, tiny: Path) -> None:
    """Same weights, minibatches and dropout masks: only float64 inside the adapter differs."""
    ref = train_one(tmp_path, tiny, Source.reference(), 0.2)
    sub = train_one(tmp_path, tiny, Source.of_submission(submission.load(REFERENCE), None), 0.2)
    assert ref.status == sub.status == "ok" and len(ref.metrics) == 2
    for name in ("train_loss", "test_loss", "objective"):
        np.testing.assert_allclose(column(sub, name), column(ref, name), rtol=1e-4)
    np.testing.assert_allclose(column(sub, "test_accuracy"), column(ref, "test_accuracy"),
                               atol=0.011)  # one image of 100 may flip on a float tie
    assert (tmp_path / "runs").is_dir() and len(list((tmp_path / "runs").iterdir())) == 2


def test_dlfs_classes_train_and_a_missing_optimizer_is_not_available(
        tmp_path: Path, tiny: Path) -> None:
    dlfs = Source.of_submission(submission.load(DLFS), None)
    plain = train_one(tmp_path, tiny, dlfs, "sgd")
    ref = train_one(tmp_path, tiny, Source.reference(), "sgd")
    assert plain.status == "ok"
    np.testing.assert_allclose(column(plain, "train_loss"), column(ref, "train_loss"), rtol=1e-3)
    missing = train_one(tmp_path, tiny, dlfs, "adadelta")
    assert missing.status == "not_available" and "AdaDelta" in missing.message


ADAPTER = '''
from reference.nn.factory import build_layer, build_optimizer


def relu(params, config):
    print("student output must not reach the protocol")
    return build_layer("relu", params, config)


class Broken:
    def update(self, params, grads):
        raise ValueError("my optimizer is broken")


LAYERS = {k: (lambda p, c, k=k: build_layer(k, p, c))
          for k in ("affine", "softmax_cross_entropy", "dropout")}
LAYERS["relu"] = relu
OPTIMIZERS = {"sgd": lambda hyper: build_optimizer("sgd", hyper),
              "adadelta": lambda hyper: Broken()}
'''


def test_student_prints_are_harmless_and_their_errors_are_reported(
        tmp_path: Path, tiny: Path) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "le4nn_adapter.py").write_text(ADAPTER, encoding="utf-8")
    shutil.copytree(REFERENCE / "reference", folder / "reference")  # the modules it uses
    student = Source.of_submission(submission.load(folder), None)
    assert train_one(tmp_path, tiny, student, "sgd").status == "ok"
    broken = train_one(tmp_path, tiny, student, "adadelta")
    assert broken.status == "error" and broken.metrics == []
    assert broken.message.startswith("ValueError: my optimizer is broken (le4nn_adapter.py:")


def test_runs_are_cached_and_an_interrupted_sweep_resumes(tmp_path: Path, tiny: Path) -> None:
    sweeps = sweep.load([str(tiny)])[:1]  # dropout: 2 levels × 3 seeds
    out = tmp_path / "out"

    def run() -> tuple[str, object]:
        log = io.StringIO()
        results = run_sweeps(sweeps, [Source.reference()], load_mnist(), out, 2, None, log)
        return log.getvalue().splitlines()[0], results.table

    first_log, first = run()
    assert first_log == "6 runs: 0 cached, 6 to train"
    assert run()[0] == "6 runs: 6 cached, 0 to train"
    victim = first["run"].iloc[0]
    shutil.rmtree(out / RUNS_DIR / victim)
    again_log, again = run()
    assert again_log == "6 runs: 5 cached, 1 to train"
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))
    params = (out / RUNS_DIR / victim / store.PARAMS).read_text(encoding="utf-8")
    assert '"spawn_key": [\n' in params and '"code":' in params


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace('factor = "dropout"', 'factor = "dropconnect"'), encoding="utf-8")
    cases = [(["--sweep", str(bad)], "unknown factor 'dropconnect'"),
             (["--sweep", str(tmp_path / "none.toml")], "no such sweep file"),
             ([str(tmp_path / "nobody"), "--sweep", "overfit"], "no such folder")]
    for argv, message in cases:
        assert main_ablations([*argv, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err


@pytest.fixture(scope="module")
def dlfs_report(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ablations")
    assert main_ablations([str(DLFS), "--sweep", str(tiny), "--out", str(out), "--jobs", "2",
                           "--lang", "en"]) == 0
    return out / "submission-dlfs_style"


def test_the_report_shows_reference_and_submission(dlfs_report: Path) -> None:
    md = (dlfs_report / "ablations.md").read_text(encoding="utf-8")
    assert "| AdaDelta | submission | — | — | — | — | — not available |" in md
    assert "| SGD | reference | " in md
    assert "AdaDelta: not available for the submission (NotAttempted: no adapter entry, no " \
           "class named AdaDelta or alike and no function for adadelta)." in md
    assert "The final test accuracy differs from the reference's by at most" in md
    figures = sorted(p.name for p in (dlfs_report / "figures").iterdir())
    assert figures == ["tiny-dropout-curves.png", "tiny-dropout-levels.png",
                       "tiny-optimizer-comparison.png", "tiny-optimizer-curves.png",
                       "tiny-optimizer-levels.png"]
    html = (dlfs_report / "ablations.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # self-contained
    assert html.count('<img src="data:image/png;base64,') == len(figures)
    table = (dlfs_report / "ablations.csv").read_text(encoding="utf-8").splitlines()
    assert table[0] == ("regime,sweep,factor,level,level_index,seed,source,status,message,run,"
                        "epoch,train_loss,train_accuracy,test_loss,test_accuracy,objective,seconds")
    # header; 2 epochs of each run that trained (dropout: 2 levels × 3 seeds × 2 sources;
    # optimizer: SGD × 2 sources, AdaDelta on the reference); a row per AdaDelta not available
    assert len(table) == 1 + 2 * (2 * 3 * 2 + 3 * 2 + 3) + 3


def test_rerendering_from_the_cache_is_deterministic(dlfs_report: Path, tiny: Path,
                                                     tmp_path: Path) -> None:
    out = dlfs_report.parent
    sweeps = sweep.load([str(tiny)])
    sources = [Source.reference(), Source.of_submission(submission.load(DLFS), None)]
    results = run_sweeps(sweeps, sources, load_mnist(), out, 1, None, io.StringIO())
    for lang in ("en", "ja"):
        first, second = tmp_path / f"a-{lang}", tmp_path / f"b-{lang}"
        report.render(results, first, lang)
        report.render(results, second, lang)
        for path in first.rglob("*"):
            if path.is_file():
                assert path.read_bytes() == (second / path.relative_to(first)).read_bytes()
    assert (dlfs_report / "ablations.md").read_bytes() == (tmp_path / "a-en" / "ablations.md"
                                                           ).read_bytes()
    ja = (tmp_path / "a-ja" / "ablations.md").read_text(encoding="utf-8")
    assert ja.startswith("# アブレーション実験レポート") and "提出物になし" in ja
    for path in (tmp_path / "a-ja").glob("ablations.*"):  # no untranslated message key
        assert not re.search(r"ablations\.[a-z_]+\.", path.read_text(encoding="utf-8"))
