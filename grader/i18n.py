"""Message catalogue: every user-facing sentence in Japanese (default) and English.

The catalogue lives in ``report_templates/i18n/*.toml``; each table is one key with
a ``ja`` and an ``en`` string in ``str.format`` syntax.

A parameter may itself be a message, ``{"key": …, "params": {…}}`` (as stored in
results.json), so that a check can pass words that must be translated too (how a run
ended, which data set it trained on). Rendering never fails on what results hold: a
parameter the template names but the message lacks shows as "—".
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from grader.results import Message

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
MISSING_PARAM = "—"
# Messages inside parameters nest this deep at most (results.json is not trusted).
MAX_NESTING = 4


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
    return _tr(key, lang, params, 0)


def render(message: Message, lang: str = DEFAULT_LANG) -> str:
    """Render a stored :class:`Message`."""
    return _tr(message.key, lang, message.params, 0)


def _tr(key: str, lang: str, params: dict[str, Any], depth: int) -> str:
    texts = catalogue().get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts[DEFAULT_LANG]
    return template.format_map(_Params(params, lang, depth))


class _Params(dict):
    """Parameters as text: nested messages rendered, lists joined, missing ones "—"."""

    def __init__(self, params: dict[str, Any], lang: str, depth: int) -> None:
        super().__init__(params)
        self.lang, self.depth = lang, depth

    def __getitem__(self, name: str) -> str:
        return _param_text(super().__getitem__(name), self.lang, self.depth)

    def __missing__(self, name: str) -> str:
        return MISSING_PARAM


def is_message(value: Any) -> bool:
    """Whether a parameter is a message of its own: ``{"key": str, "params": dict}``."""
    return (isinstance(value, dict) and isinstance(value.get("key"), str)
            and isinstance(value.get("params", {}), dict) and set(value) <= {"key", "params"})


def _param_text(value: Any, lang: str, depth: int) -> str:
    if depth >= MAX_NESTING:
        return MISSING_PARAM if isinstance(value, dict | list) else str(value)
    if is_message(value):
        return _tr(value["key"], lang, value.get("params", {}), depth + 1)
    if isinstance(value, list):
        return ", ".join(_param_text(v, lang, depth + 1) for v in value)
    return str(value)
