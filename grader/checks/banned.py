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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.checks.api_common import exchange
from grader.checks.base import Context, Verdict, check, failed, passed
from grader.results import Message
from grader.safe_files import UnsafeFile, read_text, walk
from grader.sandbox.policy import BANNED
from grader.submission import SKIPPED_DIRS, left_out_message

# A source file larger than this is not a hand-written program (the scan parses it whole).
MAX_SOURCE_BYTES = 4 << 20


def _trees(folder: Path) -> Iterator[tuple[str, ast.Module]]:
    """(relative name, syntax tree) of every ``.py`` file under ``folder``, read through
    :mod:`grader.safe_files`; files that cannot be read or parsed are passed over."""
    for rel in walk(folder, skip_dirs=SKIPPED_DIRS).files:
        if rel.suffix != ".py":
            continue
        try:
            source = read_text(folder, rel, limit=MAX_SOURCE_BYTES)
            yield rel.as_posix(), ast.parse(source)
        except (UnsafeFile, SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # NUL bytes (ValueError) or nesting beyond the parser: not a program


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
              for f, mods in static_imports(ctx.snapshot).items()}
    static = {f: mods for f, mods in static.items() if mods}
    routines = numpy_routines_used(ctx.snapshot, set(settings["numpy_routines"]))
    ans = exchange(ctx, [{"op": "modules"}])
    answered = ans.complete and ans.answers[0].get("ok") is True
    loaded = sorted(set(ans.answers[0].get("modules", [])) & banned) if answered else []
    records = ctx.blocked_imports()
    blocked = blocked_by_student(records, banned)
    details = {"static": static, "runtime": loaded, "blocked": blocked,
               "guard_records": records[:50], "banned": sorted(banned),
               "numpy_routines": routines,
               "left_out": {lo.path: lo.kind for lo in ctx.submission.left_out}}
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
    if not answered:
        why = ans.run.describe_failure() if not ans.complete else \
            str(ans.answers[0].get("error", "?"))[:200]
        return Verdict("unverified", Message("banned.runtime_unverified", {"why": why}),
                       details)
    if ctx.submission.left_out:
        # Files the grader did not read were not scanned either (nor copied, nor run).
        return Verdict("unverified", left_out_message(ctx.submission.left_out), details)
    return passed("banned.none", details)

