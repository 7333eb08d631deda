"""The not-attempted message of an API check, from the worker's structured reason.

The worker (:mod:`grader.sandbox.inside.discovery`) says why it has nothing to call —
nothing found, found but its parameters not understood, a forward without a backward,
several equally likely candidates with different code —
as a dict of names, never a sentence, so the message is written here in the report's
language. Every value in it comes from the student's files: only short strings pass.
"""

from __future__ import annotations

from typing import Any

from grader.results import Message

WHYS = ("not_found", "unrecognised", "forward_only", "no_forward", "no_update", "no_param",
        "ambiguous")
MAX_CHARS = 120


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value[:5])
    text = str(value) if value is not None else "?"
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def not_attempted(kind: str, reason: Any) -> Message:
    """``api.discovery.<why>`` with the names involved; the generic message for any other."""
    why = reason.get("why") if isinstance(reason, dict) else None
    if why not in WHYS:
        return Message("api.not_attempted", {"kind": kind, "reason": "-"})
    params = {"kind": kind}
    for name in ("name", "file", "params", "param", "looked_for", "classes", "searched",
                 "candidates"):
        params[name] = _text(reason.get(name))
    return Message(f"api.discovery.{why}", params)
