"""Banned shortcuts in the numpy tasks: frameworks that would do the work for the student.

Detected statically (import statements in every script and notebook of the submission,
for the report) and at run time: every student process — the task programs and every
check worker — runs with the import guard (:mod:`grader.sandbox.inside.guard`), which
blocks a banned module however it is asked for and records the file and line that asked;
this check runs after all others and reads every record of the grading, plus the
modules loaded once its own worker has imported all of the student's modules.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from grader.checks.api_common import exchange
from grader.checks.base import Context, Verdict, check, failed, passed
from grader.sandbox.policy import BANNED


def _trees(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        try:
            yield path.relative_to(folder).as_posix(), ast.parse(
                path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue


def static_imports(folder: Path) -> dict[str, list[str]]:
    """Top-level module names imported by each ``.py`` file of ``folder`` (parsed only)."""
    found: dict[str, list[str]] = {}
    for name, tree in _trees(folder):
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
        found[name] = sorted(modules)
    return found


def numpy_routines_used(folder: Path, routines: set[str]) -> dict[str, list[str]]:
    """Which of ``routines`` each file reaches as ``np.X``/``numpy.X`` or imports from numpy."""
    found: dict[str, list[str]] = {}
    for name, tree in _trees(folder):
        used = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in routines
                    and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy")):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "numpy":
                used |= {a.name for a in node.names} & routines
        if used:
            found[name] = sorted(used)
    return found


def blocked_by_student(records: list[dict[str, Any]], banned: set[str]) -> list[str]:
    """``file:line (module)`` of each guard record the student's own code asked for.

    Records of an allowed library probing an optional dependency (``student`` false)
    were blocked too but are not the student's doing.
    """
    places = {f"{r['file']}:{r['line']} ({r['module']})" for r in records
              if r.get("student") and r.get("module") in banned}
    return sorted(places)


@check("code.banned_imports", program=None, modules=list(BANNED), numpy_routines=[],
       reproduce="grep -rn 'import' *.py", last=True)
def banned_imports(ctx: Context, settings: dict[str, Any]) -> Verdict:
    """Forbidden modules (static and run time) and numpy routines the plan forbids (static)."""
    banned = set(settings["modules"])
    static = {f: sorted(set(mods) & banned)
              for f, mods in static_imports(ctx.sandbox.workspace).items()}
    static = {f: mods for f, mods in static.items() if mods}
    routines = numpy_routines_used(ctx.sandbox.workspace, set(settings["numpy_routines"]))
    ans = exchange(ctx, [{"op": "modules"}])
    loaded = sorted(set(ans.answers[0].get("modules", [])) & banned) if ans.complete and \
        ans.answers[0].get("ok") else []
    records = ctx.sandbox.blocked_imports()
    blocked = blocked_by_student(records, banned)
    details = {"static": static, "runtime": loaded, "blocked": blocked,
               "guard_records": records[:50], "banned": sorted(banned),
               "numpy_routines": routines}
    if routines:
        where = ", ".join(f"{f} ({', '.join(m)})" for f, m in routines.items())
        return failed("banned.numpy_routine", details, where=where)
    if blocked:
        return failed("banned.blocked", details, where=", ".join(blocked[:5]))
    if static:
        where = ", ".join(f"{f} ({', '.join(m)})" for f, m in static.items())
        return failed("banned.static", details, where=where)
    if loaded:
        return failed("banned.runtime", details, modules=", ".join(loaded))
    return passed("banned.none", details)
