"""Submission layouts built at test time from the honest code bases (no copies in the tree).

``tests/validity/honest/dlfs`` holds the classes of "Deep Learning from Scratch" once:
``layers.py`` and ``optimizer.py`` at the top, the rest of the book's ``common/`` package
beside them. :func:`dlfs_package` lays the same files out as the book's repository does
(everything inside ``common/``, imported as ``from common.layers import …``), so a test of
package discovery grades exactly the code the variant and mutant suites grade.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HONEST = Path(__file__).resolve().parent / "honest"
DLFS = HONEST / "dlfs"
DLFS_TOP_LEVEL = ("layers.py", "optimizer.py")  # in the book these live in common/ too
NO_CACHE = shutil.ignore_patterns("__pycache__")


def dlfs_package(dest: Path) -> Path:
    """``dest/common/`` as the book's repository lays it out; returns that folder."""
    common = dest / "common"
    shutil.copytree(DLFS / "common", common, ignore=NO_CACHE, dirs_exist_ok=True)
    for name in DLFS_TOP_LEVEL:
        shutil.copy2(DLFS / name, common / name)
    return common


# Submissions that are another one with some files of their own in place of its files.
BASED_ON = {"course_loader": "discovery_functional"}


def honest_submission(name: str, dest: Path) -> Path:
    """A copy of ``honest/<name>`` in ``dest``; the package layout gets its ``common/``,
    ``course_loader`` is the functional submission reading MNIST with python-mnist."""
    sub = dest / name
    shutil.copytree(HONEST / BASED_ON.get(name, name), sub, ignore=NO_CACHE)
    if name in BASED_ON:
        shutil.copytree(HONEST / name, sub, ignore=NO_CACHE, dirs_exist_ok=True)
    if name == "discovery_dlfs_package":
        dlfs_package(sub)
    return sub
