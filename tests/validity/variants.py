"""Honest submissions the layer and optimizer checks must pass on every plan seed.

Each is the reference, a correct third-party code base (tests/validity/honest/), or one of
them with a patch that writes a formula in an equivalent form. ``notes`` maps the checks
whose message must name the variant to the expected ``details["variant"]``; under a plan
with ``strict = true`` exactly those checks fail. ``absent`` lists the kinds the code base
does not implement (their checks are "not attempted" on every seed).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import reference
from tests.conftest import REFERENCE
from tests.validity.mutants import Mutant

HONEST = Path(__file__).resolve().parent / "honest"


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    base: str = "reference"
    file: str = ""
    patches: tuple[tuple[str, str], ...] = ()
    notes: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()


VARIANTS = [
    Variant("reference", "the reference library through its adapter"),
    Variant("dlfs", "the classes of Deep Learning from Scratch, unmodified (common/ layout)",
            base="dlfs", notes={"A4.adam.update": "adam_corrected_lr"},
            absent=("adadelta", "weight_decay")),
    Variant("cs231n", "a CS231n-style functional code base through le4nn_adapter.py",
            base="cs231n", notes={"A2.dropout.test_scaling": "inverted_dropout"},
            absent=("adagrad", "adadelta", "weight_decay")),
    Variant("torch_style", "SGD with torch.optim.SGD's weight_decay: biases decayed too",
            base="torch_style", notes={"A2.weight_decay.gradient": "weight_decay_on_biases"},
            absent=("affine", "sigmoid", "softmax_cross_entropy", "relu", "dropout",
                    "batchnorm", "conv2d", "maxpool2d", "momentum", "adagrad", "rmsprop",
                    "adadelta", "adam")),
    Variant("inverted_dropout", "CS231n's inverted dropout (= mutant dropout_scaled_in_training)",
            file="dropout.py",
            patches=(("self._factor = 1.0 - self.rate", "self._factor = 1.0"),
                     ("self._factor = self.mask", "self._factor = self.mask / (1.0 - self.rate)")),
            notes={"A2.dropout.test_scaling": "inverted_dropout"}),
    Variant("unbiased_running_var", "running variance of B/(B−1)·σ_B², as PyTorch keeps it",
            file="batchnorm.py",
            patches=(("(\"running_var\", var))", "(\"running_var\", var * m / (m - 1)))"),
                     ("y, x_hat, inv_std, mu, var = batchnorm_forward_train(x, gamma, beta, "
                      "self.eps)\n", "y, x_hat, inv_std, mu, var = batchnorm_forward_train("
                      "x, gamma, beta, self.eps)\n        m = x.size // mu.size\n")),
            notes={"A3.batchnorm.test_time": "unbiased_running_var"}),
    Variant("eps_outside_sqrt", "x̂ = (x − μ)/(σ + ε): ε outside the square root",
            file="batchnorm.py",
            patches=(("inv_std = 1.0 / np.sqrt(var + eps)",
                      "inv_std = 1.0 / (np.sqrt(var) + eps)"),),
            notes={"A3.batchnorm.forward": "eps_outside_sqrt"}),
    Variant("adam_corrected_lr", "Adam with α_t = α√(1−β₂ᵗ)/(1−β₁ᵗ) instead of m̂, v̂",
            file="optim/adam.py",
            patches=(("            m_hat = m / (1.0 - self.beta1**t)\n"
                      "            v_hat = v / (1.0 - self.beta2**t)\n"
                      "            p -= self.alpha * m_hat / (np.sqrt(v_hat) + self.eps)",
                      "            lr_t = self.alpha * np.sqrt(1.0 - self.beta2**t) "
                      "/ (1.0 - self.beta1**t)\n"
                      "            p -= lr_t * m / (np.sqrt(v) + self.eps)"),),
            notes={"A4.adam.update": "adam_corrected_lr"}),
]


def build(recipe: Variant | Mutant, folder: Path) -> Path:
    """The submission folder of a variant or mutant: its base copied, its patches applied."""
    sub = folder / recipe.name
    if recipe.base == "reference":
        package = sub / "reference"
        shutil.copytree(Path(reference.__file__).parent, package,
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REFERENCE / "le4nn_adapter.py", sub)
        root = package / "nn"
    else:
        shutil.copytree(HONEST / recipe.base, sub, ignore=shutil.ignore_patterns("__pycache__"))
        root = sub
    if recipe.patches:
        target = root / recipe.file
        text = target.read_text(encoding="utf-8")
        for old, new in recipe.patches:
            assert text.count(old) == 1, f"{recipe.name}: patch text not found once in {target}"
            text = text.replace(old, new)
        target.write_text(text, encoding="utf-8")
    return sub
