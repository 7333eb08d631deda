"""Shared fixtures: paths of the shipped submissions and the quick test plan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from grader.sandbox import bwrap_status

# Locally the property tests explore new examples on every run; CI (HYPOTHESIS_PROFILE=ci)
# replays the same ones, so a landing is decided by the code, not by the draw.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
FAST_PLAN = ROOT / "tests" / "plans" / "fast.toml"
API_PLAN = ROOT / "tests" / "plans" / "api.toml"
REFERENCE = ROOT / "submissions" / "reference"
EXAMPLES = ROOT / "submissions" / "examples"

needs_bwrap = pytest.mark.skipif(not bwrap_status()[0],
                                 reason=f"bubblewrap unavailable: {bwrap_status()[1]}")
