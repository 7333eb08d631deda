"""Grading plans (TOML): which checks run, with what weights, thresholds, seeds and limits."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from grader.sandbox import Limits
from grader.sandbox.policy import BANNED, FRAMEWORK_PACKAGES, PACKAGES, Policy
from grader.scoring import ALL_PARTS, COURSE_PARTS, FRAMEWORK_PARTS, Counting, part_of

VISIBILITIES = ("public", "hidden")
# Gradescope's visibilities of one test, settable per check.
TEST_VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
LIMIT_KEYS = {"wall_s": float, "cpu_s": int, "memory_mb": int, "disk_mb": int}
# Limits given in MB, held in bytes.
MB_FIELDS = {"memory_mb": "memory_bytes", "disk_mb": "disk_bytes"}
SANDBOX_KEYS = ("packages",)
BANNED_CHECK = "code.banned_imports"
# Limits become rlimits (63 bits): memory_mb << 20 must fit.
MAX_LIMIT = 2**43


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
    sandbox: Policy = field(default_factory=Policy)
    counting: Counting = field(default_factory=Counting)

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
    except OSError as e:
        raise PlanError(f"{path}: cannot read the plan file ({e.strerror or e})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PlanError(f"{path}: not a valid UTF-8 TOML file ({e})") from None
    meta = _table(doc, "plan", path)
    visibility = meta.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise PlanError(f"{path}: [plan] visibility = {visibility!r}, expected one of "
                        f"{', '.join(VISIBILITIES)}")
    name = meta.get("name", path.stem)
    if not isinstance(name, str):
        raise PlanError(f"{path}: [plan] name must be a string")
    _import_check_modules(meta.get("check_modules", []), path)
    seeds = _table(doc, "seeds", path)
    for key, value in seeds.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise PlanError(f"{path}: [seeds] {_toml_key(key)} must be an integer")
    checks = _checks(_table(doc, "checks", path), known_checks(), path,
                     "visible" if visibility == "public" else "after_published")
    return Plan(
        name=name, visibility=visibility, path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(), seeds=seeds, checks=checks,
        limits=_limits(doc.get("limits", {}), path),
        sandbox=_sandbox(doc.get("sandbox", {}), checks, path),
        counting=_counting(doc.get("parts", {}), {part_of(c) for c in checks}, path),
    )


def _table(doc: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise PlanError(f"{path}: missing table [{key}]")
    return value


def _is_number(value: Any) -> bool:
    """An int or a finite float; TOML's true/false, nan and inf are not numbers here."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _import_check_modules(files: list[str], path: Path) -> None:
    if not isinstance(files, list):
        raise PlanError(f"{path}: [plan] check_modules must be a list of file names")
    for name in files:
        if not isinstance(name, str):
            raise PlanError(f"{path}: [plan] check_modules must be a list of file names")
        module_path = (path.parent / name).absolute()
        try:
            module_path = module_path.resolve()
            found = module_path.is_file()
        except (OSError, ValueError):  # a NUL byte, a name too long for the file system
            found = False
        spec = importlib.util.spec_from_file_location(
            f"le4nn_plan_checks_{module_path.stem}", module_path) if found else None
        if spec is None:
            raise PlanError(f"{path}: check module {name!r} not found at "
                            f"{_short(str(module_path), 200)}")
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
            _check_setting(value, merged[key], path, f'[checks."{check_id}"] {key}')
            merged[key] = value
        if merged["weight"] < 0:
            raise PlanError(f'{path}: [checks."{check_id}"] weight must not be negative')
        if merged["visibility"] not in TEST_VISIBILITIES:
            raise PlanError(f'{path}: [checks."{check_id}"] visibility must be one of '
                            f"{', '.join(TEST_VISIBILITIES)}")
        checks[check_id] = merged
    return checks


def _check_setting(value: Any, default: Any, path: Path, where: str) -> None:
    """A setting must have its default's type (an int for a float is fine), finite numbers
    and, for a list, items of the default's item types."""
    if isinstance(default, int | float) and not isinstance(default, bool):
        ok = _is_number(value)
    elif isinstance(default, list):
        item_types = {type(v) for v in default} or {str}
        ok = isinstance(value, list) and all(type(v) in item_types for v in value)
    else:
        ok = type(value) is type(default)
    if not ok:
        finite = " (a finite number)" if isinstance(value, float) else ""
        raise PlanError(f"{path}: {where} = {_short(value)} should be {_kind(default)}{finite}")


def _kind(default: Any) -> str:
    """What a setting with this default must be, for messages."""
    if isinstance(default, list):
        items = sorted({type(v).__name__ for v in default}) or ["str"]
        return f"a list of {' or '.join(items)}"
    return f"a {type(default).__name__}"


def _short(value: Any, width: int = 60) -> str:
    """repr of a value, cut to ``width``: one line, whatever the value holds."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _toml_key(key: str) -> str:
    """A key as TOML spells it: bare when it can be, else quoted (so it stays on one line)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else repr(key)


def _limits(table: Any, path: Path) -> dict[str, Limits]:
    if not isinstance(table, dict):
        raise PlanError(f"{path}: limits must be a table ([limits])")
    base = _limits_from({k: v for k, v in table.items() if not isinstance(v, dict)},
                        Limits(), path, "[limits]")
    limits = {"*": base}
    for task, sub in table.items():
        if isinstance(sub, dict):
            limits[task] = _limits_from(sub, base, path, f"[limits.{_toml_key(task)}]")
    return limits


def _limits_from(values: dict[str, Any], base: Limits, path: Path, where: str) -> Limits:
    fields = {}
    for key, value in values.items():
        if key not in LIMIT_KEYS:
            raise PlanError(f"{path}: {where} has no setting {key!r} "
                            f"(known: {', '.join(LIMIT_KEYS)})")
        # cpu_s and the MB limits are whole numbers: 0.5 would become a limit of 0.
        if not _is_number(value) or not 0 < LIMIT_KEYS[key](value) <= MAX_LIMIT:
            raise PlanError(f"{path}: {where} {key} must be a positive number "
                            f"(at most {MAX_LIMIT}; cpu_s, memory_mb and disk_mb at least 1)")
        if key in MB_FIELDS:
            fields[MB_FIELDS[key]] = int(value) << 20
        else:
            fields[key] = LIMIT_KEYS[key](value)
    return Limits(**{**base.__dict__, **fields})


def _sandbox(table: Any, checks: dict[str, dict[str, Any]], path: Path) -> Policy:
    """``[sandbox]``: what student code may import (``packages``, distribution names).

    The modules the import guard blocks are the ``modules`` setting of
    ``code.banned_imports`` (its default when the plan does not run that check). A plan
    with framework checks (B1–B3) gets torch by default.
    """
    if not isinstance(table, dict):
        raise PlanError(f"{path}: sandbox must be a table ([sandbox])")
    for key in table:
        if key not in SANDBOX_KEYS:
            raise PlanError(f"{path}: [sandbox] has no setting {_toml_key(key)!r} "
                            f"(known: {', '.join(SANDBOX_KEYS)})")
    framework = any(part_of(c) in FRAMEWORK_PARTS for c in checks)
    packages = table.get("packages", [*PACKAGES, *(FRAMEWORK_PACKAGES if framework else ())])
    if not isinstance(packages, list) or not all(
            isinstance(p, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", p)
            for p in packages):
        raise PlanError(f"{path}: [sandbox] packages must be a list of distribution names "
                        'such as "numpy"')
    banned = checks.get(BANNED_CHECK, {}).get("modules", list(BANNED))
    return Policy(packages=tuple(packages), banned=tuple(banned))
_COUNTING_KEYS = ("counted", "uncallable_costs")


def _counting(table: Any, plan_parts: set[str], path: Path) -> Counting:
    """``[parts]``: which parts count toward the total, and each part's points.

    ``counted`` lists part names (``"*"``: all); ``uncallable_costs`` is true or false;
    every other key is a part's table with ``points``. A part name must be one of the
    course's (``required``, ``report``, ``A1`` … ``B3``) or a part of the plan's checks.
    """
    if not isinstance(table, dict):
        raise PlanError(f"{path}: parts must be a table ([parts])")
    known = set(COURSE_PARTS) | plan_parts

    def part_name(name: Any, where: str) -> str:
        if not isinstance(name, str) or name not in known:
            raise PlanError(f"{path}: {where}: unknown part {_short(name)} (known: "
                            f"{', '.join(sorted(known))})")
        return name

    counted = table.get("counted")
    if counted is not None:
        if not isinstance(counted, list):
            raise PlanError(f'{path}: [parts] counted must be a list of parts, e.g. '
                            f'["required", "report"] or ["{ALL_PARTS}"]')
        counted = tuple(name if name == ALL_PARTS else part_name(name, "[parts] counted")
                        for name in counted)
    costs = table.get("uncallable_costs", False)
    if not isinstance(costs, bool):
        raise PlanError(f"{path}: [parts] uncallable_costs must be true or false")
    points = {}
    for key, sub in table.items():
        if key in _COUNTING_KEYS:
            continue
        if not isinstance(sub, dict):
            raise PlanError(f"{path}: [parts] has no setting {_short(key)} (known: "
                            f"{', '.join(_COUNTING_KEYS)}, or a table [parts.PART])")
        where = f"[parts.{_toml_key(key)}]"
        part_name(key, where)
        if set(sub) - {"points"}:
            raise PlanError(f"{path}: {where} has settings {_short(sorted(sub))}; "
                            "the one setting of a part is points")
        if "points" in sub:
            if not _is_number(sub["points"]) or sub["points"] <= 0:
                raise PlanError(f"{path}: {where} points must be a positive number")
            points[key] = float(sub["points"])
    return Counting(counted=counted, points=points, uncallable_costs=costs)
