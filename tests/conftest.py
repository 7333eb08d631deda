"""Shared fixtures: paths of the shipped submissions and the quick test plan."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from grader.sandbox import bwrap_status
from reference.tasks.bundle import bundle

# Locally the property tests explore new examples on every run; CI (HYPOTHESIS_PROFILE=ci)
# replays the same ones, so a landing is decided by the code, not by the draw.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
FAST_PLAN = ROOT / "tests" / "plans" / "fast.toml"
API_PLAN = ROOT / "tests" / "plans" / "api.toml"
SHIPPED = ROOT / "submissions"

# The shipped submissions use the reference library, which the sandbox does not show
# student code: the tests grade built copies that hand in the modules they use
# (python -m reference.tasks.bundle), made once per session.
_BUILT = Path(tempfile.mkdtemp(prefix="le4nn-tests-built-"))
atexit.register(shutil.rmtree, _BUILT, ignore_errors=True)


def bundled(folder: Path) -> Path:
    """A built copy of the shipped submission ``folder`` (the same copy all session)."""
    out = _BUILT / folder.relative_to(SHIPPED)
    if not out.exists():
        bundle(folder, out)
    return out


REFERENCE = bundled(SHIPPED / "reference")
EXAMPLES = _BUILT / "examples"
for _example in sorted(p for p in (SHIPPED / "examples").iterdir() if p.is_dir()):
    bundled(_example)

needs_bwrap = pytest.mark.skipif(not bwrap_status()[0],
                                 reason=f"bubblewrap unavailable: {bwrap_status()[1]}")
