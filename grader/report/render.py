"""Write a report as Markdown (+ figures/) and as one self-contained HTML file."""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from grader.i18n import LANGS, tr
from grader.report.markdown import md_code, md_fence, md_slug, md_text
from grader.report.model import build_view
from grader.report.plots import Figure, make_figures
from grader.report.records import ordered_checks
from grader.report.text import clean

FIGURES_DIR = "figures"


def _finalize(value: Any) -> Any:
    """Every value a template shows, cleaned of control characters (markup is ours)."""
    return value if isinstance(value, markupsafe.Markup) or not isinstance(value, str) \
        else clean(value)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment over ``report_templates``; HTML templates are autoescaped.

    Every value goes through :func:`grader.report.text.clean` (the Markdown filters clean
    before they escape, so nothing a program printed can forge structure in either).
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("report_templates", ""),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(md_text=md_text, md_code=md_code, md_fence=md_fence, md_slug=md_slug)
    return env


def check_lang(lang: str) -> None:
    """Refuse a report language the catalogue does not have."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}; choose one of {', '.join(LANGS)}")


def render_template(template: str, kind: str, view: Any, lang: str) -> str:
    """``<template>.<kind>.j2`` (kind: ``md`` or ``html``) filled from ``view``.

    The template also gets ``t`` (the catalogue in ``lang``) and ``figures_dir``.
    """
    return (
        environment()
        .get_template(f"{template}.{kind}.j2")
        .render(view=view, t=partial(tr, lang=lang), figures_dir=FIGURES_DIR)
    )


def write_report(
    stem: str, template: str, view: Any, figures: list[Figure], out_dir: Path, lang: str
) -> dict[str, Path]:
    """Write ``<stem>.md`` (figures as PNGs in ``figures/``) and a self-contained ``<stem>.html``
    from the ``<template>.md.j2`` / ``<template>.html.j2`` pair."""
    figures_dir = out_dir / FIGURES_DIR
    figures_dir.mkdir(parents=True, exist_ok=True)
    for figure in figures:
        (figures_dir / figure.name).write_bytes(figure.png)
    paths = {"md": out_dir / f"{stem}.md", "html": out_dir / f"{stem}.html"}
    for kind, path in paths.items():
        # newline="\n": the same bytes on every platform.
        path.write_text(render_template(template, kind, view, lang), encoding="utf-8", newline="\n")
    return {**paths, "figures": figures_dir}


def render_reports(doc: dict[str, Any], out_dir: Path, lang: str = "ja") -> dict[str, Path]:
    """Render ``doc`` (a results.json dict) into ``out_dir``.

    Writes ``report.md`` with its PNGs in ``figures/`` (linked relatively) and
    ``report.html`` with the same PNGs embedded, so it can be mailed or uploaded alone.
    Returns the paths under the keys ``md``, ``html`` and ``figures``.
    """
    check_lang(lang)
    figures = make_figures(ordered_checks(doc), lang)
    view = build_view(doc, figures, lang)
    return write_report("report", "submission", view, figures, out_dir, lang)
