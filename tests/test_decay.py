"""The weight-decay check (A2.weight_decay.gradient) on the shapes students write it in.

Each submission is a few lines; one check worker serves it (tests/validity/session.py),
and the check runs as grade() runs it. The course's form passes, decay on the biases
too passes with a note (and fails under strict), each common mistake fails with the
message that names it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader import i18n
from tests.conftest import API_PLAN
from tests.validity.session import judge, plan_with, session

CHECK = "A2.weight_decay.gradient"
DICTS = """
def weight_decay(params, grads, lam):
    for key in params:
        if key.startswith("W"):
            grads[key] += {term}
"""
CLASS = """
import numpy as np
class L2Regularizer:
    def __init__(self, lam):
        self.lam = lam
    def gradient(self, W):
        return {term}
    def penalty(self, W):
        return {penalty}
"""
TORCH_SGD = """
class SGD:
    def __init__(self, lr=0.01, weight_decay=0.0):
        self.lr, self.weight_decay = lr, weight_decay
    def update(self, params, grads):
        for key, p in params.items():
            p -= self.lr * (grads[key] + self.weight_decay * p)
"""


def verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, strict: bool = False,
            name: str = "layers.py"):
    sub = tmp_path / "sub"
    sub.mkdir(parents=True)
    (sub / name).write_text(textwrap.dedent(code))
    with session(sub, tmp_path, monkeypatch):
        got = judge(plan_with(API_PLAN, strict=strict), CHECK, 0)
    for lang in i18n.LANGS:
        assert i18n.render(got.message, lang).strip()
    return got


def test_the_course_form_on_the_dicts_passes(tmp_path, monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, DICTS.format(term="lam * params[key]"))
    assert (got.outcome, got.message.key) == ("passed", "weight_decay.ok")
    assert got.details["factors"] == {"W1": 1.0, "b1": 0.0, "W2": 1.0, "b2": 0.0}
    assert got.details["penalty_checked"] is False and "variant" not in got.details


def test_a_per_tensor_class_with_its_penalty_passes(tmp_path, monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, CLASS.format(
        term="self.lam * W", penalty="0.5 * self.lam * np.sum(W ** 2)"))
    assert (got.outcome, got.message.key) == ("passed", "weight_decay.ok")
    assert got.details["penalty_checked"] is True
    assert got.details["penalty_factors"] == {"W": 1.0, "b": 0.0}


def test_an_sgd_that_decays_the_biases_too_passes_with_a_note(tmp_path, monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, TORCH_SGD)
    assert (got.outcome, got.message.key) == ("passed", "weight_decay.ok_on_biases")
    assert got.details["variant"] == "weight_decay_on_biases"
    strict = verdict(tmp_path / "strict", monkeypatch, TORCH_SGD, strict=True)
    assert (strict.outcome, strict.message.key) == ("failed", "weight_decay.strict_on_biases")


@pytest.mark.parametrize(("term", "key"), [
    ("2 * lam * params[key]", "weight_decay.factor_two"),
    ("-lam * params[key]", "weight_decay.sign"),
    ("0.5 * lam * params[key]", "weight_decay.factor_half"),
    ("0 * params[key]", "weight_decay.not_applied"),
    ("3 * lam * params[key]", "weight_decay.wrong_factor"),
    ("lam * (params[key] > 0) - lam * (params[key] < 0)", "weight_decay.l1"),
    ("lam * params[key] ** 3", "weight_decay.not_proportional"),
])
def test_each_wrong_gradient_fails_with_its_message(term, key, tmp_path, monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, DICTS.format(term=term))
    assert (got.outcome, got.message.key) == ("failed", key)
    assert got.message.params.get("name") == "W1"


def test_a_penalty_without_its_half_fails_as_a_derivative_mismatch(tmp_path,
                                                                    monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, CLASS.format(term="self.lam * W",
                                                      penalty="self.lam * np.sum(W ** 2)"))
    assert (got.outcome, got.message.key) == ("failed", "weight_decay.penalty_mismatch")
    assert got.message.params["on_w"] == "2"
    assert "2·λ/2·Σ‖W‖²" in i18n.render(got.message, "en")


def test_a_bias_decayed_with_the_wrong_sign_fails(tmp_path, monkeypatch) -> None:
    code = DICTS.format(term="lam * params[key]") + \
        "    grads['b1'] -= lam * params['b1']\n    grads['b2'] -= lam * params['b2']\n"
    got = verdict(tmp_path, monkeypatch, code)
    assert (got.outcome, got.message.key) == ("failed", "weight_decay.bias_factor")


def test_no_weight_decay_is_not_attempted(tmp_path, monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, "class SGD:\n    def __init__(self, lr=0.01):\n"
                  "        self.lr = lr\n    def update(self, params, grads):\n        pass\n")
    assert (got.outcome, got.message.key) == ("not_attempted", "api.discovery.not_found")
    assert "WeightDecay" in i18n.render(got.message, "en")


def test_per_tensor_functions_pair_with_the_penalty_beside_them(tmp_path, monkeypatch) -> None:
    got = verdict(tmp_path, monkeypatch, """
        import numpy as np
        def l2_grad(W, lam):
            return lam * W
        def l2_penalty(params, lam):
            return 0.5 * lam * sum(np.sum(v ** 2) for k, v in params.items() if k[0] == "W")
        """)
    assert (got.outcome, got.message.key) == ("passed", "weight_decay.ok")
    assert got.details["penalty_checked"] is True
    assert got.details["factors"] == {"W1": 1.0, "b1": 0.0, "W2": 1.0, "b2": 0.0}


def test_the_penalty_must_match_a_decay_on_the_biases_too(tmp_path, monkeypatch) -> None:
    """Biases decayed in the gradient but left out of the penalty: a derivative mismatch."""
    got = verdict(tmp_path, monkeypatch, """
        import numpy as np
        class WeightDecay:
            def __init__(self, weight_decay):
                self.wd = weight_decay
            def apply(self, params, grads):
                for k in params:
                    grads[k] += self.wd * params[k]
            def penalty(self, params):
                return 0.5 * self.wd * sum(np.sum(v ** 2) for k, v in params.items()
                                           if k.startswith("W"))
        """)
    assert (got.outcome, got.message.key) == ("failed", "weight_decay.penalty_mismatch")
    assert (got.message.params["on_b"], got.message.params["grad_b"]) == ("0", "1")
