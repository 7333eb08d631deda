"""Install the in-sandbox package (:mod:`grader.sandbox.inside`) into a tools folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.sandbox import inside

# The package's name inside the sandbox; a name no student module is likely to have.
PACKAGE = "le4nn_inside"


def install_tools(tools_dir: Path) -> None:
    """Copy :mod:`grader.sandbox.inside` to ``tools_dir/le4nn_inside`` (read-only inside)."""
    target = tools_dir / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    tools_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(inside.__file__).parent, target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
