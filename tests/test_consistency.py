"""The course network rebuilt from saved arrays, and the verdicts of the memorisation checks.

The checks run here against programs simulated in-process (a fake sandbox), so every
branch is tried in a second; tests/test_consistency_cheats.py grades real submissions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import handout as handout_module
from grader import plan as plan_module
from grader.checks import REGISTRY, Context
from grader.checks.cli_classify import PROBES
from grader.course_network import best_match, clear_mistakes, layouts, predict
from grader.grade import known_checks
from grader.params_reader import NamedArray
from grader.sandbox import RunResult
from grader.submission import load
from reference.data import load_embedded

RNG = np.random.default_rng(0)
M = 20


def course_params(m: int = M, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 0.1, (m, 784)), "b1": rng.normal(0, 1, m),
            "W2": rng.normal(0, 1, (10, m)), "b2": rng.normal(0, 1, 10)}


def course_predict(p: dict[str, np.ndarray], images: np.ndarray, relu: bool = False,
                   raw: bool = False) -> np.ndarray:
    """The course network written independently of grader.course_network (eq. 1–6)."""
    x = images.reshape(len(images), -1) / (1.0 if raw else 255.0)
    a = x @ p["W1"].T + p["b1"]
    h = np.maximum(a, 0) if relu else 1 / (1 + np.exp(-np.clip(a, -500, 500)))
    return np.argmax(h @ p["W2"].T + p["b2"], axis=1)


def fitted_params(seed: int = 0, m: int = 100) -> dict[str, np.ndarray]:
    """An accurate course network in a blink: random W1, W2 by least squares (not trained)."""
    data = load_embedded()
    rng = np.random.default_rng(seed)
    p = {"W1": rng.normal(0, 0.05, (m, 784)), "b1": rng.normal(0, 0.5, m)}
    x = data.train_images.reshape(len(data.train_images), -1) / 255.0
    h = np.column_stack([1 / (1 + np.exp(-(x @ p["W1"].T + p["b1"]))), np.ones(len(x))])
    w = np.linalg.lstsq(h, np.eye(10)[data.train_labels], rcond=None)[0]
    return p | {"W2": w[:-1].T, "b2": w[-1]}


def named(p: dict[str, np.ndarray], file: str = "p.npz") -> list[NamedArray]:
    return [NamedArray(f"{file}:{k}", v) for k, v in p.items()]


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return load_embedded().test_images[:60]


def test_the_course_layout_is_recognised_in_the_course_orientation(images) -> None:
    p = course_params()
    (layout,) = layouts(named(p), 784)
    assert layout.w1.transposed and layout.w2.transposed
    assert np.array_equal(predict(layout, "sigmoid", "x/255", images), course_predict(p, images))


@pytest.mark.parametrize("variant", ["row_vectors", "column_biases", "no_biases", "m_is_10",
                                     "shuffled_names", "separate_files"])
def test_other_ways_of_storing_the_network_agree_fully(images, variant: str) -> None:
    p = course_params(m=10 if variant == "m_is_10" else M)
    answers = course_predict(p, images)
    stored = dict(p)
    if variant == "row_vectors":
        stored = {"W1": p["W1"].T, "b1": p["b1"], "W2": p["W2"].T, "b2": p["b2"]}
    elif variant == "column_biases":
        stored |= {"b1": p["b1"][:, None], "b2": p["b2"][None, :]}
    elif variant == "no_biases":
        stored = {"W1": p["W1"], "W2": p["W2"]}
        answers = course_predict(p | {"b1": 0, "b2": 0}, images)
    elif variant == "shuffled_names":
        stored = {"z": p["b2"], "a": p["W2"], "q": p["b1"], "k": p["W1"]}
    arrays = ([NamedArray(f"{k}.npy", v) for k, v in stored.items()]
              if variant == "separate_files" else named(stored))
    match = best_match(arrays, images, answers)
    assert match is not None and match.agreement == len(images), match and match.describe()


@pytest.mark.parametrize(("relu", "raw"), [(True, False), (False, True), (True, True)])
def test_relu_and_raw_pixel_networks_are_read_as_such(images, relu: bool, raw: bool) -> None:
    p = course_params()
    answers = course_predict(p, images, relu=relu, raw=raw)
    match = best_match(named(p), images, answers)
    assert match.agreement == len(images)
    assert (match.activation, match.scaling) == ("ReLU" if relu else "sigmoid",
                                                 "x" if raw else "x/255")


def test_answers_from_elsewhere_agree_little_with_the_saved_network(images) -> None:
    truth = load_embedded().test_labels[:60]
    match = best_match(named(course_params()), images, truth.astype(int))
    assert match.agreement / len(images) < 0.5


def test_nothing_of_the_right_shapes_is_no_match(images) -> None:
    arrays = [NamedArray("a.npy", np.ones((100, 100))), NamedArray("b.npy", np.ones(10)),
              NamedArray("c.npy", np.ones((784, 20)))]  # a W1 but no 20×10 W2
    assert best_match(arrays, images, np.zeros(60, int)) is None


def test_non_finite_parameters_give_no_crash_and_no_agreement(images) -> None:
    p = course_params()
    p["W2"] = np.full_like(p["W2"], np.nan)
    match = best_match(named(p), images, np.full(60, 3))
    assert match.agreement == 0


# --- the checks, against simulated programs -------------------------------------------------

Program = Callable[[str, Path], RunResult]


def ran(stdout: str, code: int = 0) -> RunResult:
    return RunResult(code, stdout, "", False, 0.01, False)


class FakeSandbox:
    """Runs 'programs' that are Python functions of (stdin, workspace)."""

    kind, isolated, reason = "fake", False, "test"

    def __init__(self, workspace: Path, programs: dict[str, Program]) -> None:
        self.workspace, self.programs, self.calls = workspace, programs, []

    def run(self, argv: list[str], stdin: str, limits: Any) -> RunResult:
        task = argv[1].removesuffix(".py")
        self.calls.append((task, stdin))
        return self.programs[task](stdin, self.workspace)


@pytest.fixture(scope="module")
def handed(tmp_path_factory: pytest.TempPathFactory):
    return handout_module.prepare(load_embedded(), tmp_path_factory.mktemp("h"), seed=3)


PLAN = """[plan]\nname = "t"\n[seeds]\nsample = 2\n
[checks."task1.duplicates"]\n[checks."task4.duplicates"]\n[checks."task4.consistency"]\n"""


def context(tmp_path: Path, handed, programs: dict[str, Program], plan: str = PLAN) -> Context:
    sub_dir = tmp_path / "sub"
    sub_dir.mkdir()
    for task in programs:
        (sub_dir / f"{task}.py").write_text("")
    (tmp_path / "plan.toml").write_text(plan)
    the_plan = plan_module.load(tmp_path / "plan.toml", known_checks)
    ws = tmp_path / "ws"
    ws.mkdir()
    return Context(load(sub_dir), FakeSandbox(ws, programs), handed, the_plan, jobs=2)


def verdict(ctx: Context, check_id: str):
    return REGISTRY[check_id].fn(ctx, ctx.plan.checks[check_id])


def saves(p: dict[str, np.ndarray], name: str = "params.npz") -> Program:
    def task3(stdin: str, ws: Path) -> RunResult:
        np.savez(ws / name, **p)
        return ran("2.3\n1.0\n")
    return task3


def classifies(handed, how: Callable[[int], int]) -> Program:
    return lambda stdin, ws: ran(f"{how(int(stdin))}\n")


def test_an_honest_task4_agrees_fully(tmp_path: Path, handed) -> None:
    p = course_params()
    net = course_predict(p, handed.test_images)
    ctx = context(tmp_path, handed, {"task3": saves(p), "task4": classifies(handed,
                                                                           lambda i: net[i])})
    v = verdict(ctx, "task4.consistency")
    assert v.outcome == "passed" and v.details["agreement"] == 1.0
    assert v.details["n"] == 20 + 2 * len(handed.duplicates) + 8
    targeted = v.details["targeted"]
    assert len(targeted) == 8 and v.details["targeted_agreement"] == 1.0
    assert all(net[i] != handed.test_labels[i] for i in targeted), "the network's mistakes"
    assert not set(targeted) & set(v.details["indices"][:-8])
    assert v.message.params["targeted"] == {"key": "consistency.targeted",
                                            "params": {"n": 8, "agree": 8}}
    assert v.message.params["reading"].startswith("W1 = params.npz:W1ᵀ (20×784)")
    assert verdict(ctx, "task4.duplicates").outcome == "passed"
    task4_runs = [c for c in ctx.sandbox.calls if c[0] == "task4"]
    assert len(task4_runs) == len(set(task4_runs)) == v.details["n"], "each index run once"


def test_true_labels_with_dummy_parameters_fail_with_the_rate(tmp_path: Path, handed) -> None:
    ctx = context(tmp_path, handed, {
        "task3": saves(course_params()),
        "task4": classifies(handed, lambda i: handed.test_labels[i])})
    v = verdict(ctx, "task4.consistency")
    assert v.outcome == "failed" and v.details["agreement"] < 0.5
    assert v.details["answers_accuracy"] == 1.0
    assert v.message.params["rate"] == f"{100 * v.details['agreement']:.0f}%"


def test_a_program_slightly_off_the_network_passes_at_95_percent(tmp_path: Path,
                                                                  handed) -> None:
    """57 of 60 (exactly 95 %) passes; 56 of 60 fails."""
    p = course_params()
    net = course_predict(p, handed.test_images)
    plan = PLAN.replace('[checks."task4.consistency"]\n',
                        '[checks."task4.consistency"]\nsample = 52\ntargeted = 0\n')
    for wrong, outcome in ((3, "passed"), (4, "failed")):
        flipped = set()

        def task4(stdin: str, ws: Path, wrong: int = wrong, flipped: set = flipped) -> RunResult:
            i = int(stdin)
            if len(flipped) < wrong and i not in {x for pair in handed.duplicates for x in pair}:
                flipped.add(i)
                return ran(f"{(net[i] + 1) % 10}\n")
            return ran(f"{net[i]}\n")

        sub = tmp_path / str(wrong)
        sub.mkdir()
        ctx = context(sub, handed, {"task3": saves(p), "task4": task4}, plan)
        v = verdict(ctx, "task4.consistency")
        assert v.details["n"] == 60 and v.outcome == outcome, v.details["agreement"]
        assert v.details["targeted"] == [] and v.message.params["targeted"]["key"] == (
            "consistency.not_targeted")


@pytest.fixture(scope="module")
def accurate() -> dict[str, np.ndarray]:
    return fitted_params()


def test_an_accurate_network_in_float32_agrees_on_its_own_mistakes(tmp_path: Path, handed,
                                                                  accurate) -> None:
    """The targeted images are wide-margin mistakes: float32 rounding does not flip them."""
    p32 = {k: v.astype(np.float32) for k, v in accurate.items()}
    x = handed.test_images.reshape(handed.n_test, -1).astype(np.float32) / np.float32(255)
    net32 = np.argmax((1 / (1 + np.exp(-(x @ p32["W1"].T + p32["b1"])))) @ p32["W2"].T
                      + p32["b2"], axis=1)
    assert np.mean(net32 == handed.test_labels) > 0.8
    ctx = context(tmp_path, handed, {"task3": saves(accurate),
                                     "task4": classifies(handed, lambda i: net32[i])})
    v = verdict(ctx, "task4.consistency")
    assert v.outcome == "passed" and v.details["targeted_agreement"] == 1.0


def test_no_clear_mistake_flips_under_a_slightly_other_input_scaling(handed, accurate) -> None:
    """x/258 is not a reading the grader tries; no image it may target answers otherwise
    (with a margin floor of 0.1 % of the spread instead of 2 %, eight of them would)."""
    x = handed.test_images.reshape(handed.n_test, -1) / 258.0
    h = 1 / (1 + np.exp(-(x @ accurate["W1"].T + accurate["b1"])))
    other_scaling = np.argmax(h @ accurate["W2"].T + accurate["b2"], axis=1)
    net = course_predict(accurate, handed.test_images)
    assert np.sum(other_scaling != net) > 10, "a real difference"
    match = best_match(named(accurate), handed.test_images, net)
    every = clear_mistakes(match, handed.test_images, handed.test_labels, handed.n_test, set(),
                           np.random.default_rng(0))
    assert len(every) > 1000
    assert np.array_equal(other_scaling[every], net[every])


@pytest.mark.parametrize("targeted", [8, 0])
def test_a_lookup_beside_an_accurate_network_is_caught_on_its_mistakes(
        tmp_path: Path, handed, accurate, targeted: int) -> None:
    """The cheat memorise_trained_lookup: task 3 trains, task 4 answers the true labels.
    Without targeted images it agrees as often as the network is right (> 80 %)."""
    plan = PLAN.replace('[checks."task4.consistency"]\n',
                        f'[checks."task4.consistency"]\ntargeted = {targeted}\nthreshold = 0.8\n')
    ctx = context(tmp_path, handed, {
        "task3": saves(accurate), "task4": classifies(handed, lambda i: handed.test_labels[i])},
        plan)
    v = verdict(ctx, "task4.consistency")
    assert v.details["answers_accuracy"] == 1.0
    if targeted:
        # ≤, not 0: refitted on all answers, another reading (raw pixels) may win
        assert v.outcome == "failed" and v.details["targeted_agreement"] <= 0.5
        assert v.message.params["targeted"]["params"]["n"] == 8
    else:
        assert v.outcome == "passed" and v.details["agreement"] >= 0.8


def test_another_accurate_network_is_caught(tmp_path: Path, handed, accurate) -> None:
    other = course_predict(fitted_params(seed=1), handed.test_images)
    ctx = context(tmp_path, handed, {"task3": saves(accurate),
                                     "task4": classifies(handed, lambda i: other[i])})
    v = verdict(ctx, "task4.consistency")
    assert v.outcome == "failed" and v.details["answers_accuracy"] > 0.8


@pytest.mark.parametrize(("files", "key"), [
    ({}, "consistency.no_files"),
    ({"log.json": b"{}", "model.pkl": b"\x80\x04cos\nsystem\n."}, "consistency.unrecognised"),
])
def test_no_recognisable_parameters_is_unverified_naming_the_files(
        tmp_path: Path, handed, files: dict[str, bytes], key: str) -> None:
    def task3(stdin: str, ws: Path) -> RunResult:
        for name, content in files.items():
            (ws / name).write_bytes(content)
        return ran("2.3\n")

    ctx = context(tmp_path, handed, {"task3": task3, "task4": lambda s, ws: ran("1\n")})
    v = verdict(ctx, "task4.consistency")
    assert v.outcome == "unverified" and v.message.key == key
    if files:
        assert v.message.params["files"] == "model.pkl: —; log.json: —"  # pickles read first
        problems = {f["path"]: f["problem"] for f in v.details["files"]}
        assert "os.system" in problems["model.pkl"] or "posix.system" in problems["model.pkl"]


def test_without_task3_consistency_is_unverified_and_task3_is_not_run(tmp_path: Path,
                                                                      handed) -> None:
    ctx = context(tmp_path, handed, {"task4": lambda s, ws: ran("1\n")})
    v = verdict(ctx, "task4.consistency")
    assert v.outcome == "unverified" and v.message.key == "consistency.no_task3"
    assert all(task == "task4" for task, _ in ctx.sandbox.calls) and not ctx.sandbox.calls


def test_a_task4_that_never_finishes_is_an_error_not_a_disagreement(tmp_path: Path,
                                                                    handed) -> None:
    ctx = context(tmp_path, handed, {"task3": saves(course_params()),
                                     "task4": lambda s, ws: ran("", code=1)})
    assert verdict(ctx, "task4.consistency").outcome == "error"
    assert verdict(ctx, "task4.duplicates").outcome == "error"


def test_reading_index_i_minus_1_fails_the_duplicates(tmp_path: Path, handed) -> None:
    net = course_predict(course_params(), handed.test_images)
    ctx = context(tmp_path, handed, {"task1": classifies(handed, lambda i: net[i - 1])})
    v = verdict(ctx, "task1.duplicates")
    assert v.outcome == "failed" and v.message.key == "duplicates.differ"
    source, copy = v.details["source"], v.details["copy"]
    assert (source, copy) in handed.duplicates


def test_an_honest_task1_passes_the_duplicates(tmp_path: Path, handed) -> None:
    net = course_predict(course_params(), handed.test_images)
    ctx = context(tmp_path, handed, {"task1": classifies(handed, lambda i: net[i])})
    v = verdict(ctx, "task1.duplicates")
    assert v.outcome == "passed" and v.message.params["count"] == len(handed.duplicates)
    assert len(ctx.sandbox.calls) == 2 * len(handed.duplicates)


def test_an_unstable_program_is_unverified_not_blamed_for_the_index(tmp_path: Path,
                                                                    handed) -> None:
    counter = iter(range(10**6))
    ctx = context(tmp_path, handed, {"task1": lambda s, ws: ran(f"{next(counter) % 10}\n")})
    v = verdict(ctx, "task1.duplicates")
    assert v.outcome == "unverified" and v.message.key == "duplicates.unstable"
    assert v.details["source_again"] != v.details["answers"][str(v.details["source"])]


def test_the_classifier_checks_share_their_runs(tmp_path: Path, handed) -> None:
    """Task 1's probes are the planted sources, task 4's the first images asked for accuracy:
    apart from task 1's repeats (determinism), each index runs once per program."""
    net = course_predict(course_params(), handed.test_images)
    plan = PLAN + "".join(f'[checks."{c}"]\n' for c in (
        "task1.output_format", "task1.index_range", "task1.determinism",
        "task4.output_format", "task4.index_range"))
    programs = {"task1": classifies(handed, lambda i: net[i]), "task3": saves(course_params()),
                "task4": classifies(handed, lambda i: net[i])}
    ctx = context(tmp_path, handed, programs, plan)
    for check_id in ("task1.output_format", "task1.index_range", "task1.determinism",
                     "task1.duplicates", "task4.output_format", "task4.index_range",
                     "task4.duplicates", "task4.consistency"):
        assert verdict(ctx, check_id).outcome == "passed", check_id
    calls = {task: [s for t, s in ctx.sandbox.calls if t == task] for task in ("task1", "task4")}
    planted = {f"{i}\n" for pair in handed.duplicates for i in pair}
    probes = {"0\n", f"{handed.n_test - 1}\n"}
    assert len(calls["task1"]) == len(planted | probes) + len(probes) + PROBES
    assert set(calls["task1"]) == planted | probes
    assert len(calls["task4"]) == len(set(calls["task4"])), "each task-4 index once"
    assert probes <= set(calls["task4"])
