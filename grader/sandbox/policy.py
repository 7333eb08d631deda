"""What a student process may use: the packages it can import and the modules it may not.

A plan states both: ``[sandbox] packages`` (distribution names; their dependencies come
along) and the ``modules`` setting of ``code.banned_imports`` (top-level module names the
import guard blocks and records). The framework plan adds ``torch`` to the packages,
which also takes it off the blocked list.
"""

from __future__ import annotations

from dataclasses import dataclass

# Frameworks that would do a numpy task's work (and their usual aliases).
BANNED = ("torch", "tensorflow", "keras", "sklearn", "jax", "chainer", "mxnet", "theano",
          "flax", "paddle", "cupy", "lightning", "pytorch_lightning", "tf_keras")
# What a numpy task may import besides the standard library (dependencies come along).
PACKAGES = ("numpy", "matplotlib", "pillow", "python-mnist")
# What a framework task (B1–B3) adds, unless its plan states ``[sandbox] packages``.
FRAMEWORK_PACKAGES = ("torch",)


@dataclass(frozen=True)
class Policy:
    """The student environment of one plan.

    packages : distribution names installable for the student (``pillow``, not ``PIL``).
    banned : top-level module names blocked at run time unless a package provides them.
    """

    packages: tuple[str, ...] = PACKAGES
    banned: tuple[str, ...] = BANNED

    def describe(self) -> dict[str, list[str]]:
        return {"packages": sorted(self.packages), "banned": sorted(self.banned)}


DEFAULT_POLICY = Policy()
