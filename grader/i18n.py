"""Message catalogue: every user-facing sentence in Japanese (default) and English.

The catalogue lives in ``report_templates/i18n/*.toml``; each table is one key with
a ``ja`` and an ``en`` string in ``str.format`` syntax.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from grader.results import Message

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """All keys from every ``*.toml`` in ``report_templates/i18n``; a key defined twice is a bug."""
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("report_templates") / "i18n"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        for key, texts in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            if key in merged:
                raise KeyError(f"message key {key!r} defined twice (second in {entry.name})")
            merged[key] = texts
    return merged


def tr(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Translate ``key`` into ``lang`` and fill in ``params``.

    An unknown key renders as the key itself, so a missing translation is visible in
    the report instead of crashing it.
    """
    texts = catalogue().get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts[DEFAULT_LANG]
    return template.format(**params)


def render(message: Message, lang: str = DEFAULT_LANG) -> str:
    """Render a stored :class:`Message`."""
    return tr(message.key, lang, **message.params)
