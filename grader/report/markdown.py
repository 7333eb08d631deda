"""Escaping for Markdown output (GitHub-flavoured), used as jinja2 filters.

Messages and diagnostics may quote what a student's program printed, so every piece of
text is cleaned (:func:`grader.report.text.clean`: one kind of line end, no control
characters) and escaped: nothing a submission prints can become a link, HTML, a heading,
break a table or close a code block.
"""

from __future__ import annotations

import re

from grader.report.text import clean

# ASCII punctuation that CommonMark lets us backslash-escape and that could start markup.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~!#])")
_BACKTICKS = re.compile(r"`+")


def md_text(text: object) -> str:
    """Plain text safe inside a paragraph or a table cell."""
    # Every line end becomes <br>: a raw one would end a table row or start a new block.
    return _SPECIAL.sub(r"\\\1", clean(text)).replace("\n", "<br>")


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def md_code(text: object, table: bool = False) -> str:
    """An inline code span that survives any backticks (and pipes, inside a table) in ``text``."""
    code = " ".join(clean(text).split("\n"))
    if table:
        # GFM splits table cells on | even inside code spans.
        code = code.replace("|", "\\|")
    fence = "`" * (_longest_backtick_run(code) + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def md_fence(text: object) -> str:
    """A fenced code block that ``text`` cannot close: its fence is longer than any run of
    backticks in the text, whose line ends are all ``\\n`` (no lone ``\\r`` to start a line
    a viewer would read as the fence's end)."""
    body = clean(text)
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return f"{fence}text\n{body}\n{fence}"


# GitHub keeps letters, digits (any script), "_", "-" and spaces of a heading.
_NOT_SLUG = re.compile(r"[^\w\- ]")


def md_slug(heading: object) -> str:
    """The anchor GitHub (and most previewers) give a heading: ``課題 2`` → ``課題-2``."""
    return _NOT_SLUG.sub("", str(heading).lower()).replace(" ", "-")
