"""Reading what student programs print."""

from __future__ import annotations

import math
import re

_DIGIT = re.compile(r"[0-9]")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)",
                     re.IGNORECASE)


def single_digit(stdout: str) -> int | None:
    """The digit when stdout is exactly one digit 0–9 (surrounding whitespace allowed)."""
    text = stdout.strip()
    return int(text) if _DIGIT.fullmatch(text) else None


def single_number(stdout: str) -> float | None:
    """The value when stdout is exactly one number (surrounding whitespace allowed)."""
    text = stdout.strip()
    return float(text) if _NUMBER.fullmatch(text) else None


def numbers_per_line(stdout: str) -> list[float]:
    """The last number on each line that has one (``"epoch 3: 0.41"`` gives 0.41).

    Lenient on purpose: the course fixes what is printed (one loss per epoch), not
    how it is labelled.
    """
    values = []
    for line in stdout.splitlines():
        found = _NUMBER.findall(line)
        if found:
            values.append(float(found[-1]))
    return values


def all_finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for a message, marked when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
