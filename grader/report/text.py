"""Text from results made safe to lay out: one kind of line end, no invisible controls,
no cell a spreadsheet would run as a formula.

Messages and diagnostics quote what a student's program printed. A lone ``\\r`` is a line
end to Markdown viewers (so ``"ok\\r# Heading"`` would forge a heading), and other
control characters can hide or reorder text. :func:`clean` turns every line separator
into ``\\n`` and every other control character into a visible stand-in, before any
escaping for Markdown or HTML.
"""

from __future__ import annotations

import re

# Everything Python's str.splitlines splits at, which viewers may treat as a line end.
_LINE_ENDS = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# C0 controls other than tab and line feed, DEL, the C1 controls, and the bidirectional
# overrides and isolates (which reorder what is displayed).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_DEL_PICTURE = "\u2421"
_OTHER = "\ufffd"


def _picture(match: re.Match[str]) -> str:
    """The Unicode control picture of a C0 control (␛ for ESC), else a replacement mark."""
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return _DEL_PICTURE if code == 0x7F else _OTHER


def clean(text: object) -> str:
    """``text`` with ``\\n`` as its only line end and no invisible control characters."""
    return _CONTROLS.sub(_picture, _LINE_ENDS.sub("\n", str(text)))


# What a spreadsheet may read as the start of a formula (or, for tab and CR, a cell
# boundary that hides the one before): OWASP's CSV-injection list.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string starting like a formula gets a
    leading ``'``; anything else (numbers, missing values) is returned as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
