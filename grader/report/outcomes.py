"""How an outcome is shown: a symbol plus a word, so it never relies on colour alone."""

from __future__ import annotations

from grader.i18n import tr

SYMBOLS: dict[str, str] = {
    "passed": "✅",
    "failed": "❌",
    "error": "⚠",
    "timeout": "⏱",
    "not_attempted": "—",
    "unverified": "?",
}

# Outcomes under which a student needs the diagnostics to understand what went wrong.
DIAGNOSED = frozenset({"failed", "error", "timeout"})


def outcome_word(outcome: str, lang: str) -> str:
    """The outcome's name in ``lang`` (e.g. 合格 / passed)."""
    return tr(f"outcome.{outcome}", lang)


def outcome_label(outcome: str, lang: str) -> str:
    """Symbol and word together, e.g. ``✅ 合格``."""
    return f"{SYMBOLS.get(outcome, '?')} {outcome_word(outcome, lang)}"


def format_score(value: float) -> str:
    """A score without noise: ``5``, ``2.5``, ``0.33``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
