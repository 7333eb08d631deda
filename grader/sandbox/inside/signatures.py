"""What each parameter of a student's function means, decided from its name.

``assign`` gives every parameter the role its name says (:data:`.names.ROLES`); a name
that fits several roles takes the one the other parameters leave; a single parameter
with a name the grader does not know takes the single role left. A function whose
required parameters cannot all be given a role is not guessed at: the caller reports
it as found but not understood, and the adapter is the way to say what it means.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from .names import ROLES, norm

_NAMED = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
          inspect.Parameter.KEYWORD_ONLY)


def parameters(fn: Callable) -> list[inspect.Parameter] | None:
    """The named parameters of ``fn`` (``self`` excluded), or None when it has no signature."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [p for p in sig.parameters.values() if p.kind in _NAMED]


def describe(fn: Callable) -> str:
    """``(x, W, b)``: the parameter list shown in messages."""
    params = parameters(fn)
    return "(?)" if params is None else "(" + ", ".join(p.name for p in params) + ")"


def assign(fn: Callable, roles: Iterable[str], required: Iterable[str] = (),
           names: dict[str, set[str]] = ROLES) -> dict[str, str] | None:
    """parameter name → role for ``fn``, or None when it cannot be decided.

    ``roles`` are the roles in play, in order of preference for a name that fits
    several; every role of ``required`` must be given and every parameter without a
    default must get a role.
    """
    params = parameters(fn)
    if params is None:
        return None
    roles, required = list(roles), list(required)
    fits = {p.name: [r for r in roles if norm(p.name) in names[r]] for p in params}
    chosen: dict[str, str] = {}
    while True:  # names with one meaning first; then the first other name, in order
        free = {p.name: [r for r in fits[p.name] if r not in chosen.values()]
                for p in params if p.name not in chosen}
        sure = [n for n, f in free.items() if len(f) == 1]
        pick = sure[0] if sure else next((n for n, f in free.items() if f), None)
        if pick is None:
            break
        chosen[pick] = free[pick][0]
    left = [p.name for p in params if p.name not in chosen and p.default is p.empty]
    missing = [r for r in required if r not in chosen.values()]
    if len(left) == 1 and len(missing) == 1:
        chosen[left.pop()] = missing.pop()
    if left or missing:
        return None
    return chosen


def call(fn: Callable, mapping: dict[str, str], values: dict[str, Any]) -> Any:
    """``fn`` called with the value of each assigned role; the others keep their defaults."""
    args, kwargs = [], {}
    for p in parameters(fn) or []:
        role = mapping.get(p.name)
        if role is None or role not in values:
            continue
        if p.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(values[role])
        else:
            kwargs[p.name] = values[role]
    return fn(*args, **kwargs)
