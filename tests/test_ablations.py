"""Ablations without training: the sweep schema, seeds and weights, the cache, the findings."""

from __future__ import annotations

import ast
import string
import tomllib
from pathlib import Path

import numpy as np
import pytest

from grader.ablations import network, runs, store, summary, sweep
from grader.ablations.execute import Trial, tidy
from grader.ablations.runs import Source
from grader.ablations.store import RunOutcome
from grader.sandbox import RunResult
from reference.nn import Optimizer
from tests.conftest import ROOT

REGIME = """
[regime]
name = "unit"
train_size = 100
seeds = [0, 1, 2]
epochs = 4
network = {hidden = [8, 8]}
optimizer = {kind = "sgd", lr = 0.1}
"""


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_sweep(tmp_path: Path, factor: str, levels: str, extra: str = "") -> sweep.Sweep:
    body = f'{REGIME}\n[[sweep]]\nfactor = "{factor}"\nlevels = {levels}\n{extra}'
    (s,) = sweep.load_file(write(tmp_path, body))
    return s


# --- the schema ---------------------------------------------------------------------------


def test_shipped_sweeps_match_the_issue() -> None:
    sweeps = {s.id: s for s in sweep.load()}
    overfit = sweeps["overfit-dropout"].regime
    assert overfit.train_size == 300 and overfit.base.epochs >= 100
    assert len(overfit.base.network.hidden) >= 4
    assert sweeps["overfit-dropout"].levels == (0.0, 0.1, 0.2, 0.3, 0.5)
    for kind in ("l1", "l2"):
        assert sweeps[f"overfit-{kind}"].levels == (0.0, 1e-4, 1e-3, 1e-2, 1e-1)
    assert set(sweeps["normal-optimizer"].levels) == set(Optimizer.registry)
    assert sweeps["normal-optimizer"].regime.train_size is None
    assert all(len(s.regime.seeds) >= sweep.MIN_SEEDS for s in sweeps.values())


def test_a_shipped_file_is_found_by_its_name() -> None:
    assert sweep.resolve("overfit") == sweep.SWEEPS_DIR / "overfit.toml"
    assert sweep.resolve("mine.toml") == Path("mine.toml")


def test_off_levels_share_one_setup(tmp_path: Path) -> None:
    """λ = 0 means no regularizer, so that level is the same run as ρ = 0 and is cached once."""
    sweeps = sweep.load_file(write(tmp_path, REGIME + """
[[sweep]]
factor = "l2"
levels = [0.0, 0.01]
[[sweep]]
factor = "dropout"
levels = [0.0, 0.5]
"""))
    l2, drop = sweeps
    assert l2.setup(0.0) == drop.setup(0.0) == l2.base
    assert l2.setup(0.01).regularizer == sweep.Penalty("l2", 0.01)


def test_optimizer_levels_take_the_course_defaults(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "optimizer", '["adam", "sgd"]')
    assert s.setup("adam").optimizer.hyper == {"alpha": 0.001, "beta1": 0.9, "beta2": 0.999,
                                               "eps": 1e-8}
    assert s.setup("sgd").optimizer.hyper == {"lr": 0.01}
    assert s.base.optimizer.hyper == {"lr": 0.1}  # the regime's own setting stays the base


def test_a_sweep_may_override_the_training_setup(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "dropout", "[0.0, 0.2]", 'optimizer = {kind = "adam"}\nepochs = 9\n'
                  'regularizer = {kind = "l1", lam = 0.001}')
    assert (s.base.optimizer.kind, s.base.epochs) == ("adam", 9)
    assert s.setup(0.2).regularizer == sweep.Penalty("l1", 0.001)  # dropout on top of L1
    assert s.setup(0.2).network.dropout == 0.2


@pytest.mark.parametrize(("body", "message"), [
    ("[regime\n", "not valid TOML"),
    (REGIME + '[[sweep]]\nfactor = "weight_decay"\nlevels = [0, 1]\n',
     "unknown factor 'weight_decay' (known: dropout, l1, l2, optimizer, batchnorm, init_scale)"),
    (REGIME + '[[sweep]]\nfactor = "dropout"\nlevels = [0.0, 1.0]\n', "must be in [0, 1)"),
    (REGIME + '[[sweep]]\nfactor = "l2"\nlevels = [0.0, -1e-3]\n', "λ must be ≥ 0"),
    (REGIME + '[[sweep]]\nfactor = "l2"\nlevels = [false, 0.1]\n', "expected a number"),
    (REGIME + '[[sweep]]\nfactor = "l2"\nlevels = [0.1, 0.1]\n', "a level is repeated"),
    (REGIME + '[[sweep]]\nfactor = "l2"\nlevels = [0.1]\n', "at least two levels"),
    (REGIME + '[[sweep]]\nfactor = "optimizer"\nlevels = ["sgd", "lion"]\n',
     "unknown optimizer 'lion'"),
    (REGIME + '[[sweep]]\nfactor = "l2"\nlevels = [0, 1]\nseed = 3\n', "unknown key(s) seed"),
    (REGIME + '[sweep]\nfactor = "l2"\nlevels = [0, 1]\n', "write each sweep as [[sweep]]"),
    (REGIME.replace("seeds = [0, 1, 2]", "seeds = [0, 0, 1]")
     + '[[sweep]]\nfactor = "l2"\nlevels = [0, 1]\n', "at least 3 different seeds"),
    (REGIME.replace('lr = 0.1', 'learning_rate = 0.1')
     + '[[sweep]]\nfactor = "l2"\nlevels = [0, 1]\n', "unknown key(s) learning_rate"),
    (REGIME.replace("hidden = [8, 8]", "hidden = []")
     + '[[sweep]]\nfactor = "l2"\nlevels = [0, 1]\n', "a list of layer widths"),
    (REGIME, "at least one [[sweep]]"),
])
def test_bad_sweep_files_are_one_line_errors(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(sweep.SweepError) as info:
        sweep.load([str(path)])
    assert message in str(info.value)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_missing_file_and_clashing_names_are_errors(tmp_path: Path) -> None:
    with pytest.raises(sweep.SweepError, match="no such sweep file"):
        sweep.load([str(tmp_path / "absent.toml")])
    body = REGIME + '[[sweep]]\nfactor = "l2"\nlevels = [0, 1]\n'
    first, second = write(tmp_path, body, "a.toml"), write(tmp_path, body, "b.toml")
    with pytest.raises(sweep.SweepError, match="regime 'unit' is already defined"):
        sweep.load([str(first), str(second)])
    with pytest.raises(sweep.SweepError, match="two sweeps named 'l2'"):
        sweep.load([str(write(tmp_path, body + '[[sweep]]\nfactor = "l2"\nlevels = [0, 2]\n'))])


# --- seeds and initial weights ------------------------------------------------------------


def affine_weights(req: dict) -> list[np.ndarray]:
    return [layer["params"]["W"] for layer in req["layers"] if layer["kind"] == "affine"]


def test_every_level_starts_from_the_same_weights_and_order(tmp_path: Path) -> None:
    body = REGIME + "".join(f'[[sweep]]\nfactor = "{f}"\nlevels = {levels}\n' for f, levels in (
        ("dropout", "[0.0, 0.5]"), ("batchnorm", "[false, true]"), ("l1", "[0.0, 0.1]"),
        ("optimizer", '["sgd", "adam"]')))
    requests = [network.request(s.setup(level), 1, 784) for s in sweep.load_file(
        write(tmp_path, body)) for level in s.levels]
    first = affine_weights(requests[0])
    for req in requests[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(first, affine_weights(req), strict=True))
        assert req["seeds"] == requests[0]["seeds"]
    other_seed = network.request(sweep.load_file(tmp_path / "sweep.toml")[0].base, 2, 784)
    assert not np.array_equal(affine_weights(other_seed)[0], first[0])
    assert other_seed["seeds"]["order"] != requests[0]["seeds"]["order"]


def test_layers_follow_the_network_description(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "init_scale", "[1.0, 0.5]",
                  'network = {hidden = [8, 8], batchnorm = true, dropout = 0.2}')
    layers = network.request(s.setup(0.5), 0, 784)["layers"]
    assert [layer["kind"] for layer in layers] == [
        "affine", "batchnorm", "relu", "dropout", "affine", "batchnorm", "relu", "dropout",
        "affine", "softmax_cross_entropy"]
    masks = [layer["config"]["seed"] for layer in layers if layer["kind"] == "dropout"]
    assert len(set(masks)) == 2  # each dropout layer its own stream
    full = network.request(s.setup(1.0), 0, 784)["layers"]
    np.testing.assert_allclose(layers[0]["params"]["W"], 0.5 * full[0]["params"]["W"], rtol=1e-6)
    assert layers[0]["params"]["W"].shape == (8, 784)  # the course's (out, in) layout
    assert layers[0]["params"]["W"].dtype == np.float32
    he_std = np.sqrt(2 / 784)
    assert abs(full[0]["params"]["W"].std() / he_std - 1) < 0.1


def test_streams_are_seed_sequences() -> None:
    spec = network.stream(7, network.ORDER)
    expected = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(1,))).permutation(10)
    np.testing.assert_array_equal(network.generator(spec).permutation(10), expected)


def test_the_ablation_worker_imports_only_the_standard_library_and_numpy() -> None:
    path = ROOT / "grader" / "sandbox" / "inside" / "ablation_worker.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "gzip", "importlib", "json", "os", "struct", "sys", "time",
                        "pathlib", "numpy"}


# --- the cache and the protocol -----------------------------------------------------------


def epochs(n: int, final_train: float = 1.0, final_test: float = 0.8,
           final_loss: float = 0.05) -> list[dict[str, float]]:
    """Metrics rising linearly to the given final values."""
    return [{"epoch": e, "train_loss": final_loss * n / e, "train_accuracy": final_train * e / n,
             "test_loss": 0.5, "test_accuracy": final_test * e / n, "objective": 0.1,
             "seconds": 0.25} for e in range(1, n + 1)]


def test_a_stored_run_reads_back_exactly(tmp_path: Path) -> None:
    metrics = epochs(3)
    metrics[1]["test_loss"] = float("nan")
    store.save(tmp_path, "k1", {"seed": 0}, RunOutcome("ok", "", metrics))
    back = store.load(tmp_path, "k1")
    assert back is not None and back.status == "ok" and back.seconds == 0.75
    assert np.isnan(back.metrics[1]["test_loss"])
    assert [m["train_accuracy"] for m in back.metrics] == [m["train_accuracy"] for m in metrics]
    assert (tmp_path / "k1" / store.PARAMS).is_file()


def test_an_unfinished_run_is_not_cached(tmp_path: Path) -> None:
    (tmp_path / "k2").mkdir()
    (tmp_path / "k2" / store.METRICS).write_text("epoch\n1\n")
    assert store.load(tmp_path, "k2") is None
    assert store.load(tmp_path, "absent") is None


def result(stdout: str, stderr: str = "", returncode: int | None = 0) -> RunResult:
    return RunResult(returncode, stdout, stderr, returncode is None, 1.0, False)


def test_trainer_output_is_parsed_and_garbage_is_an_error() -> None:
    line = '{"epoch": 1, "train_loss": 1, "train_accuracy": 0.5, "test_loss": 1, ' \
           '"test_accuracy": 0.4, "objective": 1, "seconds": 0.1}\n'
    assert runs.parse(result(line + '{"done": true}\n')).status == "ok"
    missing = runs.parse(result(line + '{"ok": false, "error": "NotAttempted: no AdaDelta", '
                                       '"where": "", "not_attempted": true}\n'))
    assert (missing.status, missing.message) == ("not_available", "NotAttempted: no AdaDelta")
    cut = runs.parse(result(line + "garbage\n", "Traceback\nMemoryError", returncode=None))
    assert cut.status == "error" and len(cut.metrics) == 1
    assert cut.message == "timeout: Traceback | MemoryError"


# --- statistics and findings --------------------------------------------------------------


def synthetic(s: sweep.Sweep, finals: list[list[tuple[float, float]]]) -> summary.SweepStats:
    """Stats of ``s`` whose level i, seed j ends at (train, test) accuracy ``finals[i][j]``."""
    trials, outcomes = [], {}
    for i, per_seed in enumerate(finals):
        for seed, (train, test) in zip(s.regime.seeds, per_seed, strict=True):
            key = f"{i}-{seed}"
            trials.append(Trial(s, i, seed, Source.reference(), key))
            outcomes[key] = RunOutcome("ok", "", epochs(s.base.epochs, train, test))
    return summary.sweep_stats(tidy(trials, outcomes), s, "reference")


def test_the_smallest_gap_is_named_with_its_seed_count(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "l2", "[0.0, 0.01, 0.1]")
    stats = synthetic(s, [[(1.0, 0.80), (1.0, 0.79), (1.0, 0.81)],
                          [(0.95, 0.80), (0.96, 0.80), (0.95, 0.81)],
                          [(0.90, 0.80), (0.90, 0.82), (0.92, 0.80)]])
    said = summary.findings(stats, "en")
    assert said[0] == ("At L2 λ = 0 (no regularisation) the final training accuracy was 100.0%, "
                       "the test accuracy 80.0%: a gap of 20.0 pt.")
    assert "The gap was smallest at L2 λ = 0.1: 10.0 ± 2.0 pt (20.0 pt at L2 λ = 0)" in said[1]
    assert "smaller than at L2 λ = 0 in 3 of 3 seeds" in said[1]
    assert not any("within the spread" in x for x in said)
    assert stats.smaller_gap(stats.levels[1]) == (3, 3)


def test_a_difference_some_seeds_contradict_is_called_within_the_spread(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "dropout", "[0.0, 0.2]")
    stats = synthetic(s, [[(1.0, 0.80), (1.0, 0.80), (1.0, 0.80)],
                          [(0.85, 0.80), (1.0, 0.78), (0.9, 0.80)]])
    said = " ".join(summary.findings(stats, "en"))
    assert "in 2 of 3 seeds" in said and "within the spread over seeds" in said


def test_a_level_that_did_not_learn_is_not_praised_for_its_gap(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "dropout", "[0.0, 0.5]")
    stats = synthetic(s, [[(1.0, 0.8)] * 3, [(0.12, 0.10)] * 3])
    said = summary.findings(stats, "en")
    assert "No other level that learned had a smaller mean gap than ρ = 0." in said
    assert ("At ρ = 0.5 the test accuracy stayed near chance (below 20.0%): the network did not "
            "learn, so these levels are left out of the gap comparison.") in said
    assert "The highest final test accuracy was at ρ = 0: 80.0 ± 0.0%." in said


def test_no_smaller_gap_is_said_plainly(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "l1", "[0.0, 0.01]")
    stats = synthetic(s, [[(1.0, 0.9)] * 3, [(1.0, 0.8)] * 3])
    assert "No other level that learned had a smaller mean gap than L1 λ = 0." in summary.findings(
        stats, "en")


def test_the_fastest_optimizer_is_the_first_to_reach_the_target(tmp_path: Path) -> None:
    # Training accuracy rises linearly, so reaching 95 % depends on the final value.
    s = one_sweep(tmp_path, "optimizer", '["sgd", "momentum", "adam"]',
                  "epochs = 10")
    stats = synthetic(s, [[(0.9, 0.85)] * 3, [(1.0, 0.9)] * 3, [(1.0, 0.9)] * 3])
    assert [lv.to_target for lv in stats.levels] == [None, 10, 10]
    said = summary.findings(stats, "en")
    assert said[0] == "Momentum, Adam reached a mean training accuracy of 95.0% first, at epoch 10."
    assert "SGD did not reach 95.0% training accuracy within 10 epochs." in said
    assert summary.findings(stats, "ja")[0].startswith("平均の訓練正解率が最も早く")


def test_missing_levels_are_reported_not_averaged(tmp_path: Path) -> None:
    s = one_sweep(tmp_path, "optimizer", '["sgd", "adadelta"]')
    trials = [Trial(s, i, seed, Source.reference(), f"{i}-{seed}")
              for i in range(2) for seed in s.regime.seeds]
    outcomes = {t.key: RunOutcome("ok", "", epochs(4)) if t.level_index == 0 else
                RunOutcome("not_available", "NotAttempted: no class named AdaDelta")
                for t in trials}
    stats = summary.sweep_stats(tidy(trials, outcomes), s, "reference")
    assert stats.levels[1].n == 0 and stats.levels[1].status == "not_available"
    assert ("AdaDelta: not available for the submission (NotAttempted: no class named AdaDelta)."
            in summary.findings(stats, "en"))


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    messages = tomllib.loads((ROOT / "report_templates" / "i18n" / "ablations.toml").read_text(
        encoding="utf-8"))
    for key, texts in messages.items():
        assert key.startswith("ablations.") and set(texts) == {"ja", "en"}, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in texts.values()]
        assert fields[0] == fields[1], key
