"""The check catalogue. Importing this package registers every check family."""

from grader.checks import (
    api_behaviour,
    api_decay,
    api_layers,
    api_optimizers,
    banned,
    cli_classify,
    cli_consistency,
    cli_training,
    framework,
    written_report,
)
from grader.checks.base import REGISTRY, Check, Context, Verdict

__all__ = [
    "REGISTRY",
    "Check",
    "Context",
    "Verdict",
    "api_behaviour",
    "api_decay",
    "api_layers",
    "api_optimizers",
    "banned",
    "cli_classify",
    "cli_consistency",
    "cli_training",
    "framework",
    "written_report",
]
