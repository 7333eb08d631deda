"""Words that checks pass as message parameters and that need translating themselves.

Each function returns a nested message (``{"key": …, "params": {…}}``, see
:mod:`grader.i18n`), so a report in Japanese never shows an English fragment such as
"exit code 1" inside a Japanese sentence.
"""

from __future__ import annotations

import signal
from typing import Any

from grader.sandbox import RunResult


def ended(run: RunResult) -> dict[str, Any]:
    """How a run that did not succeed ended: it filled its disk limit, timed out, was killed
    by a signal, or its exit code."""
    if run.disk_full:
        return {"key": "run.ended.disk_full", "params": {"mb": run.disk_limit_mb}}
    if run.timed_out:
        return {"key": "run.ended.timeout", "params": {}}
    code = run.returncode
    if code is None:
        return {"key": "run.ended.unknown", "params": {}}
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return {"key": "run.ended.signal", "params": {"signal": name}}
    return {"key": "run.ended.exit", "params": {"code": code}}


def training_data(data: dict[str, Any]) -> dict[str, Any]:
    """The training set the programs got, as recorded in results.json ``data``."""
    n = data.get("n_train")
    count = f"{n:,}" if isinstance(n, int) else "?"
    kind = "embedded" if data.get("kind") == "embedded" else "idx"
    return {"key": f"data.train.{kind}", "params": {"n": count}}
