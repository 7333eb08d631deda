"""Grading plans (TOML): which checks run, with what weights, thresholds, seeds and limits."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from grader.sandbox import Limits

VISIBILITIES = ("public", "hidden")
# Gradescope's visibilities of one test, settable per check.
TEST_VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
LIMIT_KEYS = {"wall_s": float, "cpu_s": int, "memory_mb": int}


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file and the key."""


@dataclass
class Plan:
    name: str
    visibility: str
    path: str
    sha256: str
    seeds: dict[str, int]
    checks: dict[str, dict[str, Any]]
    limits: dict[str, Limits] = field(default_factory=dict)

    def limits_for(self, task: str) -> Limits:
        return self.limits.get(task, self.limits["*"])

    def describe(self) -> dict[str, Any]:
        """What results.json records about the plan."""
        return {"name": self.name, "visibility": self.visibility, "path": self.path,
                "sha256": self.sha256}


def public_plan_path() -> Path:
    return Path(str(resources.files("grader") / "plans" / "public.toml"))


def load(path: Path | None, known_checks: Callable[[], dict[str, dict[str, Any]]]) -> Plan:
    """Read and validate a plan; ``known_checks()`` maps check id → its default settings.

    ``[plan] check_modules`` lists Python files (relative to the plan) that register more
    checks; they are the instructor's own code and are imported here, before validation.
    Settings a check does not declare are an error, so a typo in a hidden plan cannot
    silently fall back to a default.
    """
    path = Path(path) if path is not None else public_plan_path()
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{path}: plan file not found") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PlanError(f"{path}: not a valid UTF-8 TOML file ({e})") from None
    meta = _table(doc, "plan", path)
    visibility = meta.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise PlanError(f"{path}: [plan] visibility = {visibility!r}, expected one of "
                        f"{', '.join(VISIBILITIES)}")
    _import_check_modules(meta.get("check_modules", []), path)
    seeds = _table(doc, "seeds", path)
    for key, value in seeds.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise PlanError(f"{path}: [seeds] {key} must be an integer")
    return Plan(
        name=str(meta.get("name", path.stem)), visibility=visibility, path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(), seeds=seeds,
        checks=_checks(_table(doc, "checks", path), known_checks(), path,
                       "visible" if visibility == "public" else "after_published"),
        limits=_limits(doc.get("limits", {}), path),
    )


def _table(doc: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise PlanError(f"{path}: missing table [{key}]")
    return value


def _import_check_modules(files: list[str], path: Path) -> None:
    if not isinstance(files, list):
        raise PlanError(f"{path}: [plan] check_modules must be a list of file names")
    for name in files:
        module_path = (path.parent / str(name)).resolve()
        spec = importlib.util.spec_from_file_location(
            f"le4nn_plan_checks_{module_path.stem}", module_path)
        if not module_path.is_file() or spec is None:
            raise PlanError(f"{path}: check module {name!r} not found at {module_path}")
        if spec.name in sys.modules:
            continue
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # the instructor's module: report it, whatever it raised
            raise PlanError(f"{path}: check module {name!r} failed to load: "
                            f"{type(e).__name__}: {e}") from None
        sys.modules[spec.name] = module


def _checks(table: dict[str, Any], known: dict[str, dict[str, Any]], path: Path,
            visibility: str) -> dict[str, dict[str, Any]]:
    checks = {}
    for check_id, settings in table.items():
        if check_id not in known:
            raise PlanError(f"{path}: unknown check {check_id!r} (known: {', '.join(known)})")
        if not isinstance(settings, dict):
            raise PlanError(f'{path}: [checks."{check_id}"] must be a table')
        merged = {"weight": 1.0, "visibility": visibility, **known[check_id]}
        for key, value in settings.items():
            if key not in merged:
                raise PlanError(f'{path}: [checks."{check_id}"] has no setting {key!r} '
                                f"(known: {', '.join(merged)})")
            if type(value) is not type(merged[key]) and not (
                isinstance(value, int | float) and isinstance(merged[key], int | float)
            ):
                raise PlanError(f'{path}: [checks."{check_id}"] {key} = {value!r} should be '
                                f"a {type(merged[key]).__name__}")
            merged[key] = value
        if merged["weight"] < 0:
            raise PlanError(f'{path}: [checks."{check_id}"] weight must not be negative')
        if merged["visibility"] not in TEST_VISIBILITIES:
            raise PlanError(f'{path}: [checks."{check_id}"] visibility must be one of '
                            f"{', '.join(TEST_VISIBILITIES)}")
        checks[check_id] = merged
    return checks


def _limits(table: dict[str, Any], path: Path) -> dict[str, Limits]:
    base = _limits_from({k: v for k, v in table.items() if not isinstance(v, dict)},
                        Limits(), path, "[limits]")
    limits = {"*": base}
    for task, sub in table.items():
        if isinstance(sub, dict):
            limits[task] = _limits_from(sub, base, path, f"[limits.{task}]")
    return limits


def _limits_from(values: dict[str, Any], base: Limits, path: Path, where: str) -> Limits:
    fields = {}
    for key, value in values.items():
        if key not in LIMIT_KEYS:
            raise PlanError(f"{path}: {where} has no setting {key!r} "
                            f"(known: {', '.join(LIMIT_KEYS)})")
        if not isinstance(value, int | float) or value <= 0:
            raise PlanError(f"{path}: {where} {key} must be a positive number")
        if key == "memory_mb":
            fields["memory_bytes"] = int(value) << 20
        else:
            fields[key] = LIMIT_KEYS[key](value)
    return Limits(**{**base.__dict__, **fields})
