"""Grading plans (TOML): which checks run, with what weights, thresholds, seeds and limits."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from grader.sandbox import Limits

VISIBILITIES = ("public", "hidden")
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


def load(path: Path | None, known_checks: dict[str, dict[str, Any]]) -> Plan:
    """Read and validate a plan; ``known_checks`` maps check id → its default settings.

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
    seeds = _table(doc, "seeds", path)
    for key, value in seeds.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise PlanError(f"{path}: [seeds] {key} must be an integer")
    return Plan(
        name=str(meta.get("name", path.stem)), visibility=visibility, path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(), seeds=seeds,
        checks=_checks(_table(doc, "checks", path), known_checks, path),
        limits=_limits(doc.get("limits", {}), path),
    )


def _table(doc: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise PlanError(f"{path}: missing table [{key}]")
    return value


def _checks(table: dict[str, Any], known: dict[str, dict[str, Any]],
            path: Path) -> dict[str, dict[str, Any]]:
    checks = {}
    for check_id, settings in table.items():
        if check_id not in known:
            raise PlanError(f"{path}: unknown check {check_id!r} (known: {', '.join(known)})")
        if not isinstance(settings, dict):
            raise PlanError(f'{path}: [checks."{check_id}"] must be a table')
        merged = {"weight": 1.0, **known[check_id]}
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
