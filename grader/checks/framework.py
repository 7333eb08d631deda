"""Checks of the framework tasks B1–B3 (§6.4–6.6): submitted PyTorch models.

Per task a submission hands in a module that builds the model and the model's state dict
(docs/framework.en.md):

- B1: ``b1_model.py`` with ``build_model()``, and ``b1_weights.pt``. Images
  ``(N, 1, 28, 28)`` in [0, 1] → class scores ``(N, 10)``.
- B2: ``b2_model.py`` with ``build_model()`` and ``INPUT_SIZE = (H, W)``, and
  ``b2_weights.pt``. Images ``(N, 3, H, W)`` in [0, 1] → scores ``(N, 2)``
  (0 = nonsmile, 1 = smile).
- B3: ``b3_generator.py`` with ``build_generator()`` and ``LATENT_DIM = d``, and
  ``b3_generator.pt``. Noise ``(N, d)`` ~ N(0, I) → images ``(N, 1, 28, 28)`` in [-1, 1].

The model is built and its state dict loaded (``weights_only=True``) inside the sandbox by
:mod:`grader.sandbox.inside.framework_worker`, in one worker run per task; every check of a
task is a view on that run. The grader sends inputs only: hidden images without labels,
noise vectors.
Module constants are read from the source as literals, never by running it here. torch
is imported in this process only to score generated digits (lazily, in
:mod:`reference.torch_adapter.quality`).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.api_client import Answers, ask
from grader.checks.base import Context, Verdict, check, failed, passed
from grader.checks.words import ended
from grader.results import Message
from grader.safe_files import UnsafeFile, read_path
from grader.stats import wilson_interval
from reference.data import Dataset, read_mnist_dir

LIMITS_KEY = "framework"
MNIST_SHAPE = (28, 28)
N_DIGITS = 10
SHAPE_PROBES = 4  # images sent to the B2 model
GRADE = "python -m grader grade . --plan grader/plans/framework.toml"


@dataclass(frozen=True)
class Task:
    """What a framework task hands in: module, factory function, weights, constant read."""

    name: str
    module: str
    factory: str
    weights: str
    constant: str | None = None

    @property
    def reproduce(self) -> str:
        return (f"python -c \"import torch, {self.module}; m = {self.module}.{self.factory}(); "
                f"m.load_state_dict(torch.load('{self.weights}', weights_only=True))\"")


B1 = Task("B1", "b1_model", "build_model", "b1_weights.pt")
B2 = Task("B2", "b2_model", "build_model", "b2_weights.pt", "INPUT_SIZE")
B3 = Task("B3", "b3_generator", "build_generator", "b3_generator.pt", "LATENT_DIM")


@dataclass
class Session:
    """One worker run for a task: the inputs sent to ``run`` and the answers."""

    task: Task
    inputs: list[np.ndarray]
    answers: Answers


# --- the worker run --------------------------------------------------------------------


def module_constant(path: Path, name: str) -> Any:
    """The literal assigned to ``name`` at the top level of ``path``, else None.

    Parsed, not run: the grader never executes submitted code in its own process.
    """
    try:
        tree = ast.parse(read_path(path).decode("utf-8", errors="replace"))
    except (UnsafeFile, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                return ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
    return None


def _precondition(ctx: Context, task: Task) -> Verdict | None:
    """Why the task cannot be checked at all (absent, no torch), else None."""
    if Path(f"{task.module}.py") not in ctx.submission.files:  # regular files only
        return Verdict("not_attempted", Message("framework.not_attempted", {
            "task": task.name, "module": f"{task.module}.py"}))
    if importlib.util.find_spec("torch") is None:
        return Verdict("error", Message("framework.no_torch", {"task": task.name}))
    return None


Inputs = list[np.ndarray] | Verdict


def session(ctx: Context, task: Task, make_inputs: Callable[[Any], Inputs],
            sample: int = 0) -> Session | Verdict:
    """Build the task's model in the sandbox and run it on ``make_inputs(constant)``; once
    per task and sample size.

    ``make_inputs`` receives the module's constant (or None) and returns the arrays to run
    the model on, or a Verdict when the constant is unusable.
    """
    def compute() -> Session | Verdict:
        problem = _precondition(ctx, task)
        if problem is not None:
            return problem
        constant = None
        if task.constant is not None:
            constant = module_constant(ctx.submission.root / f"{task.module}.py", task.constant)
        inputs = make_inputs(constant)
        if isinstance(inputs, Verdict):
            return inputs
        requests = [{"op": "build", "module": task.module, "factory": task.factory,
                     "weights": task.weights}] + [{"op": "run", "x": x} for x in inputs]
        answers = ask(ctx.sandbox, requests, ctx.plan.limits_for(LIMITS_KEY),
                      module="framework_worker")
        return Session(task, inputs, answers)

    return ctx.once(("framework", task.name, sample), compute)


def _worker_died(task: Task, answers: Answers) -> Verdict:
    outcome = "timeout" if answers.run.timed_out else "error"
    return Verdict(outcome, Message("framework.worker_died", {
        "task": task.name, "ended": ended(answers.run)}),
        {"stderr_tail": answers.run.stderr_tail()})


def load_verdict(s: Session | Verdict) -> Verdict:
    """The ``*.model_loads`` verdict: did ``build`` succeed?"""
    if isinstance(s, Verdict):
        return s
    task, answers = s.task, s.answers.answers
    params = {"module": f"{task.module}.py", "factory": task.factory, "weights": task.weights}
    if not answers:
        return _worker_died(task, s.answers)
    if not answers[0].get("ok"):
        return failed("framework.load_failed", {"trace": answers[0].get("trace", "")},
                      error=answers[0]["error"], **params)
    # Reported by code that ran beside the student's: shown, never trusted as numbers.
    count, cls = answers[0].get("parameters"), str(answers[0].get("class"))[:80]
    return passed("framework.loaded", {"parameters": count, "class": cls}, cls=cls,
                  parameters=f"{count:,}" if isinstance(count, int) else "?", **params)


def outputs(s: Session | Verdict) -> list[np.ndarray] | Verdict:
    """The model's output for every input, or the verdict that explains why there is none."""
    if isinstance(s, Verdict):
        return s
    loaded = load_verdict(s)
    if loaded.outcome != "passed":
        if loaded.outcome in ("timeout", "error"):
            return loaded
        return failed("framework.not_loaded", task=s.task.name)
    if not s.answers.complete:
        return _worker_died(s.task, s.answers)
    results = []
    for answer in s.answers.answers[1:]:
        if not answer.get("ok"):
            return failed("framework.run_failed", {"trace": answer.get("trace", "")},
                          error=answer["error"], where=answer.get("where") or "?")
        y = answer.get("y")
        if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf":
            return failed("framework.not_an_array", got=type(y).__name__)
        results.append(y)
    return results


def shape_verdict(s: Session | Verdict, expected: list[tuple[int, ...]]) -> Verdict:
    """Every output has its expected shape and only finite values."""
    ys = outputs(s)
    if isinstance(ys, Verdict):
        return ys
    for x, y, want in zip(s.inputs, ys, expected, strict=True):
        if y.shape != want:
            return failed("framework.wrong_shape", {"input_shape": str(x.shape)},
                          input=str(tuple(x.shape)), got=str(tuple(y.shape)), expected=str(want))
        if not np.all(np.isfinite(y)):
            return failed("framework.not_finite", input=str(tuple(x.shape)))
    shapes = ", ".join(f"{tuple(x.shape)} → {tuple(y.shape)}"
                       for x, y in zip(s.inputs, ys, strict=True))
    return passed("framework.shape_ok", shapes=shapes)


def case_rng(ctx: Context, name: str) -> np.random.Generator:
    """A generator seeded by the plan and the task, so each task has its own inputs."""
    return np.random.default_rng([ctx.plan.seeds.get("sample", 0), zlib.crc32(name.encode())])


# --- B1: the MNIST classifier ------------------------------------------------------------


def distinct_sample(images: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of up to ``size`` pairwise different images, in a random order.

    The handed-out test set repeats the embedded 1,000 test images ten times; counting a
    repeated image twice would make the confidence bound claim more than was measured.
    Handed images are perturbed copies, so callers pass ``Handout.origin`` (which real
    image each one was made from) rather than the pixels.

    Parameters
    ----------
    images : ndarray, shape (N, ...) — items that are equal when they are the same image
    """
    order = rng.permutation(len(images))
    _, first = np.unique(images[order].reshape(len(order), -1), axis=0, return_index=True)
    return order[np.sort(first)][:size]


def b1_ids(ctx: Context, sample: int) -> np.ndarray:
    """The hidden test images B1 is judged on: ``sample`` distinct ones, seeded by the plan."""
    return distinct_sample(ctx.handout.origin, sample, case_rng(ctx, "B1"))


def b1_session(ctx: Context, sample: int) -> Session | Verdict:
    """The model run on one image, then on the whole sample (pixel / 255, no labels)."""

    def inputs(_: Any) -> Inputs:
        ids = b1_ids(ctx, sample)
        x = (ctx.handout.test_images[ids].astype(np.float32) / 255.0)[:, None]
        return [x[:1], x]

    return session(ctx, B1, inputs, sample)


@check("B1.model_loads", program=None, reproduce=B1.reproduce, sample=1000)
def b1_model_loads(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return load_verdict(b1_session(ctx, settings["sample"]))


@check("B1.output_shape", program=None, reproduce=B1.reproduce, sample=1000)
def b1_output_shape(ctx: Context, settings: dict[str, Any]) -> Verdict:
    s = b1_session(ctx, settings["sample"])
    expected = [] if isinstance(s, Verdict) else [(len(x), N_DIGITS) for x in s.inputs]
    return shape_verdict(s, expected)


@check("B1.accuracy", program=None, reproduce=GRADE, sample=1000, threshold=0.95, confidence=0.95)
def b1_accuracy(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Accuracy on distinct hidden test images, judged by its Wilson lower bound."""
    s = b1_session(ctx, settings["sample"])
    ys = outputs(s)
    if isinstance(ys, Verdict):
        return ys
    scores = ys[-1]
    n = len(s.inputs[-1])
    if scores.shape != (n, N_DIGITS):
        return failed("framework.wrong_shape", input=str(s.inputs[-1].shape),
                      got=str(tuple(scores.shape)), expected=str((n, N_DIGITS)))
    labels = ctx.handout.test_labels[b1_ids(ctx, settings["sample"])]
    correct = int(np.sum(scores.argmax(axis=1) == labels))
    low, high = wilson_interval(correct, n, settings["confidence"])
    details = {"n": n, "correct": correct, "accuracy": correct / n, "wilson_lower": low,
               "wilson_upper": high, "threshold": settings["threshold"],
               "confidence": settings["confidence"]}
    params = {"accuracy": f"{correct / n:.3f}", "low": f"{low:.3f}", "n": n,
              "threshold": f"{settings['threshold']:.3f}"}
    if low >= settings["threshold"]:
        return passed("framework.accuracy_ok", details, **params)
    return failed("framework.accuracy_low", details, **params)


# --- B2: the smile classifier -------------------------------------------------------------


def _size_problem(value: Any) -> bool:
    return not (isinstance(value, tuple | list) and len(value) == 2
                and all(isinstance(v, int) and 8 <= v <= 1024 for v in value))


def b2_session(ctx: Context) -> Session | Verdict:
    """Run the model on a few procedural faces of its ``INPUT_SIZE`` (shape check only: the
    grader has no photographs of the course's faces)."""

    def inputs(size: Any) -> Inputs:
        if _size_problem(size):
            return failed("framework.bad_constant", module=f"{B2.module}.py", name=B2.constant,
                          example="(218, 178)", got=repr(size))
        from reference.torch_adapter.faces import draw_face

        height, width = size
        rng = case_rng(ctx, "B2")
        side = max(height, width)
        faces = [draw_face(rng, side, smile=bool(i % 2))[:height, :width]
                 for i in range(SHAPE_PROBES)]
        return [np.stack(faces).transpose(0, 3, 1, 2).astype(np.float32)]

    return session(ctx, B2, inputs)


@check("B2.model_loads", program=None, reproduce=B2.reproduce)
def b2_model_loads(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return load_verdict(b2_session(ctx))


@check("B2.output_shape", program=None, reproduce=B2.reproduce)
def b2_output_shape(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return shape_verdict(b2_session(ctx), [(SHAPE_PROBES, 2)])


# --- B3: the generator and the quality of its digits --------------------------------------


def b3_session(ctx: Context, sample: int) -> Session | Verdict:
    def inputs(latent_dim: Any) -> Inputs:
        if not (isinstance(latent_dim, int) and 1 <= latent_dim <= 4096):
            return failed("framework.bad_constant", module=f"{B3.module}.py", name=B3.constant,
                          example="100", got=repr(latent_dim))
        rng = case_rng(ctx, "B3")
        return [rng.standard_normal((sample, latent_dim), dtype=np.float32)]

    return session(ctx, B3, inputs, sample)


def samples(ctx: Context, settings: dict[str, Any]) -> np.ndarray | Verdict:
    """The generated images as ``(N, 28, 28)`` in [0, 1], or why they are unusable.

    Accepted shapes: ``(N, 1, 28, 28)``, ``(N, 28, 28)`` and ``(N, 784)``; values must lie
    in [-1, 1] (tanh) up to ``range_tolerance``.
    """
    s = b3_session(ctx, settings["sample"])
    ys = outputs(s)
    if isinstance(ys, Verdict):
        return ys
    y, n = ys[0], settings["sample"]
    if y.shape not in ((n, 1, *MNIST_SHAPE), (n, *MNIST_SHAPE), (n, MNIST_SHAPE[0] ** 2)):
        return failed("framework.wrong_shape", input=str(s.inputs[0].shape),
                      got=str(tuple(y.shape)), expected=str((n, 1, *MNIST_SHAPE)))
    if not np.all(np.isfinite(y)):
        return failed("framework.not_finite", input=str(s.inputs[0].shape))
    low, high = float(y.min()), float(y.max())
    if low < -1 - settings["range_tolerance"] or high > 1 + settings["range_tolerance"]:
        return failed("framework.out_of_range", low=f"{low:.3g}", high=f"{high:.3g}")
    return ((y.reshape(n, *MNIST_SHAPE).astype(np.float64) + 1) / 2).clip(0, 1)


def hidden_dataset(ctx: Context) -> Dataset:
    """The training images handed out and the distinct hidden test images with labels."""
    handed = read_mnist_dir(ctx.handout.directory)
    # Every distinct image once, in handout order (the generator only picks which copy).
    ids = np.sort(distinct_sample(ctx.handout.origin, ctx.handout.n_test,
                                  np.random.default_rng(0)))
    return Dataset(handed.train_images, handed.train_labels, ctx.handout.test_images[ids],
                   ctx.handout.test_labels[ids], source="hidden test set")


_SCORERS: dict[str, Any] = {}
_SCORERS_LOCK = threading.Lock()


def scorer(ctx: Context, sample: int) -> Any:
    """The quality scorer of :mod:`reference.torch_adapter.quality` for the hidden data,
    trained once per data, sample size and seed in this process (batch grading reuses it).
    """
    from reference.torch_adapter.quality import Scorer
    from reference.torch_adapter.runtime import pick_device

    data = hidden_dataset(ctx)
    seed = ctx.plan.seeds.get("sample", 0)
    digest = hashlib.sha256(b"".join(a.tobytes() for a in (
        data.train_images, data.train_labels, data.test_images, data.test_labels)))
    key = f"{digest.hexdigest()}:{sample}:{seed}"
    with _SCORERS_LOCK:
        if key not in _SCORERS:
            _SCORERS[key] = Scorer.train(data, n_reference=sample, seed=seed,
                                         device=pick_device())
        return _SCORERS[key]


def quality(ctx: Context, settings: dict[str, Any]) -> dict[str, Any] | Verdict:
    """Scores of the generated digits with floor and ceiling, as check details; once."""
    images = samples(ctx, settings)
    if isinstance(images, Verdict):
        return Verdict(images.outcome if images.outcome in ("timeout", "error") else "failed",
                       Message("framework.samples_unusable", {}), {"reason": images.message.key})

    def compute() -> dict[str, Any]:
        sc = scorer(ctx, settings["sample"])
        # The scorer's reference sets may be smaller than the sample on a small test set;
        # FIDs are only comparable between sets of the same size.
        scores = sc.score(images[: sc.n])
        return {
            "n": sc.n, "fid": scores.fid, "fid_floor": sc.floor.fid,
            "fid_ceiling": sc.ceiling.fid, "relative_fid": sc.relative_fid(scores.fid),
            "inception_score": scores.inception_score,
            "inception_score_real": sc.floor.inception_score,
            "inception_score_noise": sc.ceiling.inception_score,
            "relative_inception_score": sc.relative_inception_score(scores.inception_score),
            "coverage": scores.coverage, "class_shares": list(scores.class_shares),
            "pixel_std": scores.pixel_std,
            "feature_net_test_accuracy": sc.test_accuracy,
        }

    return ctx.once(("framework", "B3.quality", settings["sample"]), compute)


B3_SETTINGS = {"sample": 500, "range_tolerance": 1e-3}


@check("B3.generator_loads", program=None, reproduce=B3.reproduce, **B3_SETTINGS)
def b3_generator_loads(ctx: Context, settings: dict[str, Any]) -> Verdict:
    return load_verdict(b3_session(ctx, settings["sample"]))


@check("B3.sample_format", program=None, reproduce=B3.reproduce, **B3_SETTINGS)
def b3_sample_format(ctx: Context, settings: dict[str, Any]) -> Verdict:
    images = samples(ctx, settings)
    if isinstance(images, Verdict):
        return images
    return passed("framework.samples_ok", n=len(images))


def _quality_check(ctx: Context, settings: dict[str, Any], judge) -> Verdict:
    details = quality(ctx, settings)
    return details if isinstance(details, Verdict) else judge(details)


@check("B3.noise_dependence", program=None, reproduce=GRADE, **B3_SETTINGS, min_pixel_std=0.05)
def b3_noise_dependence(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Different z must give different images: a generator that ignores z fails here.

    The measure is the mean over pixels of the standard deviation across the samples
    (real test digits give about 0.2).
    """
    images = samples(ctx, settings)
    if isinstance(images, Verdict):
        return images
    std = float(images.std(axis=0).mean())
    details = {"pixel_std": std, "threshold": settings["min_pixel_std"]}
    params = {"std": f"{std:.3f}", "threshold": f"{settings['min_pixel_std']:.3f}"}
    if std >= settings["min_pixel_std"]:
        return passed("framework.noise_used", details, **params)
    return failed("framework.noise_ignored", details, **params)


@check("B3.fid", program=None, reproduce=GRADE, **B3_SETTINGS, max_relative_fid=0.15)
def b3_fid(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """FID placed between the real-vs-real floor (0) and the noise ceiling (1)."""

    def judge(d: dict[str, Any]) -> Verdict:
        params = {"fid": f"{d['fid']:.2f}", "floor": f"{d['fid_floor']:.2f}",
                  "ceiling": f"{d['fid_ceiling']:.2f}", "relative": f"{d['relative_fid']:.3f}",
                  "threshold": f"{settings['max_relative_fid']:.3f}", "n": d["n"]}
        if d["relative_fid"] <= settings["max_relative_fid"]:
            return passed("framework.fid_ok", d, **params)
        return failed("framework.fid_high", d, **params)

    return _quality_check(ctx, settings, judge)


@check("B3.inception_score", program=None, reproduce=GRADE, **B3_SETTINGS,
       min_relative_inception_score=0.35)
def b3_inception_score(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """The inception score placed between noise (0) and real test digits (1)."""

    def judge(d: dict[str, Any]) -> Verdict:
        params = {"score": f"{d['inception_score']:.2f}",
                  "real": f"{d['inception_score_real']:.2f}",
                  "noise": f"{d['inception_score_noise']:.2f}",
                  "relative": f"{d['relative_inception_score']:.3f}",
                  "threshold": f"{settings['min_relative_inception_score']:.3f}"}
        if d["relative_inception_score"] >= settings["min_relative_inception_score"]:
            return passed("framework.is_ok", d, **params)
        return failed("framework.is_low", d, **params)

    return _quality_check(ctx, settings, judge)


@check("B3.coverage", program=None, reproduce=GRADE, **B3_SETTINGS, min_coverage=9)
def b3_coverage(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """How many digits the generator produces at all (mode collapse leaves some out)."""

    def judge(d: dict[str, Any]) -> Verdict:
        shares = ", ".join(f"{k}: {share:.0%}" for k, share in enumerate(d["class_shares"]))
        params = {"coverage": d["coverage"], "threshold": settings["min_coverage"],
                  "shares": shares}
        if d["coverage"] >= settings["min_coverage"]:
            return passed("framework.coverage_ok", d, **params)
        return failed("framework.coverage_low", d, **params)

    return _quality_check(ctx, settings, judge)
