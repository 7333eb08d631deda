"""The cache of finished runs: one folder per run, named by the hash of what decides it.

``<root>/<key>/`` holds ``params.json`` (what was trained, how, on which data, seeds,
code version), ``metrics.csv`` (one row per epoch) and ``summary.json`` (status, final
metrics, time). A folder is written aside and renamed into place, so a run that was
interrupted leaves nothing and is simply run again; a folder that exists is complete.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARAMS, METRICS, SUMMARY = "params.json", "metrics.csv", "summary.json"
COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "objective",
           "seconds")


@dataclass
class RunOutcome:
    """How a run ended and what it measured.

    ``status``: ``ok``; ``not_available`` (the submission has no class for a kind the run
    needs); ``error`` (it raised, timed out or produced garbage; ``message`` says how).
    ``metrics``: one dict per finished epoch with the keys of :data:`COLUMNS`; the train
    metrics are measured in test mode over the whole training set after the epoch, so
    they are comparable with the test metrics; ``objective`` is the epoch's mean
    minibatch loss including the weight-decay penalty, as minimised.
    """

    status: str
    message: str = ""
    metrics: list[dict[str, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return float(sum(m["seconds"] for m in self.metrics))


def run_key(identity: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able description of a run."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def load(root: Path, key: str) -> RunOutcome | None:
    """The stored outcome of run ``key``, or None when it has not finished yet."""
    folder = root / key
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        with open(folder / METRICS, newline="", encoding="utf-8") as f:
            rows = [{k: _number(row[k]) for k in COLUMNS} for row in csv.DictReader(f)]
    except (OSError, ValueError, KeyError):
        return None  # absent or damaged: run it again
    return RunOutcome(summary["status"], summary.get("message", ""), rows)


def _number(text: str) -> float:
    return float(text) if text else math.nan


def save(root: Path, key: str, params: dict[str, Any], outcome: RunOutcome) -> Path:
    """Write the three files of run ``key`` and publish the folder whole."""
    folder = root / key
    staging = root / f".{key}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _write_json(staging / PARAMS, params)
    with open(staging / METRICS, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _text(m[k]) for k in COLUMNS} for m in outcome.metrics)
    final = outcome.metrics[-1] if outcome.metrics else {}
    _write_json(staging / SUMMARY, {"key": key, "status": outcome.status,
                                    "message": outcome.message, "epochs": len(outcome.metrics),
                                    "final": {k: _json_number(v) for k, v in final.items()},
                                    "seconds": round(outcome.seconds, 3)})
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def _text(x: float) -> str:
    # repr keeps every digit, so a cached run reads back exactly what was measured.
    return "" if math.isnan(x) else repr(float(x))


def _json_number(x: float) -> float | None:
    return None if not math.isfinite(x) else x


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
