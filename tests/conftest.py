"""Shared fixtures: paths of the shipped submissions and the quick test plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.sandbox import bwrap_status

ROOT = Path(__file__).resolve().parent.parent
FAST_PLAN = ROOT / "tests" / "plans" / "fast.toml"
API_PLAN = ROOT / "tests" / "plans" / "api.toml"
REFERENCE = ROOT / "submissions" / "reference"
EXAMPLES = ROOT / "submissions" / "examples"

needs_bwrap = pytest.mark.skipif(not bwrap_status()[0],
                                 reason=f"bubblewrap unavailable: {bwrap_status()[1]}")
