"""The ablation report's figures, drawn from the statistics of :mod:`grader.ablations.summary`.

Same conventions as :mod:`grader.report.plots`: matplotlib's object API, the pinned
style, Okabe–Ito colours always paired with a second cue (line style or marker) so that
greyscale prints stay readable, and PNG bytes that depend only on the numbers. Bands
are ±1 standard deviation over seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from grader.ablations.summary import SweepStats, level_label, level_value, listing, points
from grader.i18n import tr
from grader.report.plots import OKABE_ITO, Figure, draw, png_bytes
from grader.report.view import percent

# Okabe–Ito in an order where neighbours differ in lightness too; sky blue and black last.
LEVEL_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["green"],
                 OKABE_ITO["vermillion"], OKABE_ITO["purple"], "#56B4E9", "#000000")
LEVEL_LINES = ("-", "--", "-.", ":")
LEVEL_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
METRIC_COLOURS = {"train_accuracy": OKABE_ITO["blue"], "test_accuracy": OKABE_ITO["vermillion"]}
SOURCE_LINES = {"reference": "-", "submission": "--"}
SOURCE_MARKERS = {"reference": "o", "submission": "s"}
SOURCE_COLOURS = {"reference": OKABE_ITO["blue"], "submission": OKABE_ITO["orange"]}
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
MAX_COLUMNS = 3
MARKS_PER_LINE = 8


def source_name(source: str, lang: str) -> str:
    return tr(f"ablations.source.{source}", lang)


def factor_name(stats: SweepStats, lang: str) -> str:
    return tr(f"ablations.factor.{stats.sweep.factor.name}", lang)


def band(ax: Axes, curves: pd.DataFrame, metric: str, **line) -> None:
    """The mean of ``metric`` over seeds as a line, ±1 standard deviation as a band."""
    mean, sd = curves[(metric, "mean")], curves[(metric, "sd")]
    ax.plot(curves.index, mean, **line)
    low = mean - sd
    if ax.get_yscale() == "log":
        low = low.clip(lower=mean.min() * 1e-3)  # a log axis cannot show a band below 0
    ax.fill_between(curves.index, low, mean + sd, color=line["color"], alpha=0.15, linewidth=0)


def note_missing(ax: Axes, what: str, lang: str, top: bool) -> None:
    """Say in the panel what has no result, so a missing line is not overlooked.

    Written in the right-hand corner the curves leave free: the top for falling losses,
    the bottom for rising accuracies.
    """
    ax.text(0.97, 0.95 if top else 0.05, tr("ablations.fig.missing", lang, what=what),
            transform=ax.transAxes, ha="right", va="top" if top else "bottom", fontsize=8,
            color=OKABE_ITO["grey"])


def _grid(fig: MplFigure, count: int) -> list[Axes]:
    cols = min(count, MAX_COLUMNS)
    axes = fig.subplots(math.ceil(count / cols), cols, sharex=True, sharey=True, squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return list(axes.flat[:count])


def _finals_text(stats: Sequence[SweepStats], lang: str) -> str:
    """Every level's final accuracies in words, for alt texts."""
    parts = []
    for st in stats:
        for lv in st.finished:
            parts.append(tr("ablations.fig.final_values", lang, source=source_name(st.source, lang),
                            level=level_label(st.sweep.factor.name, lv.level, lang),
                            train=percent(lv.final("train_accuracy").mean),
                            test=percent(lv.final("test_accuracy").mean)))
    return "; ".join(parts)


def curves_figure(stats: Sequence[SweepStats], lang: str) -> Figure:
    """Train and test accuracy per epoch, one panel per level, every source in each panel."""
    sweep = stats[0].sweep
    cols = min(len(sweep.levels), MAX_COLUMNS)
    rows = math.ceil(len(sweep.levels) / cols)
    fig = MplFigure(figsize=(2.5 * cols + 0.6, 2.0 * rows + 0.9), layout="constrained")
    for i, ax in enumerate(_grid(fig, len(sweep.levels))):
        missing = []
        for st in stats:
            lv = st.levels[i]
            if not lv.n:
                missing.append(source_name(st.source, lang))
                continue
            for metric, colour in METRIC_COLOURS.items():
                band(ax, lv.curves, metric, color=colour, linestyle=SOURCE_LINES[st.source],
                     linewidth=1.2)
        if missing:
            note_missing(ax, listing(missing, lang), lang, top=False)
        ax.set_title(level_label(sweep.factor.name, sweep.levels[i], lang))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    fig.supxlabel(tr("ablations.fig.epoch", lang), fontsize=10)
    fig.supylabel(tr("ablations.fig.accuracy", lang), fontsize=10)
    handles = [Line2D([], [], color=colour, linestyle=SOURCE_LINES[st.source],
                      label=tr(f"ablations.fig.{metric}", lang) + (
                          f" ({source_name(st.source, lang)})" if len(stats) > 1 else ""))
               for st in stats for metric, colour in METRIC_COLOURS.items()]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(METRIC_COLOURS),
               fontsize=8, frameon=False)
    name = factor_name(stats[0], lang)
    alt = tr("ablations.fig.curves.alt", lang, factor=name, seeds=len(sweep.regime.seeds),
             finals=_finals_text(stats, lang))
    caption = tr("ablations.fig.curves.caption", lang, factor=name, seeds=len(sweep.regime.seeds),
                 styles=tr("ablations.fig.styles", lang) if len(stats) > 1 else "")
    return Figure(f"{sweep.id}-curves.png", None, png_bytes(fig), alt, caption)


def levels_figure(stats: Sequence[SweepStats], lang: str) -> Figure:
    """Final test accuracy (left) and train–test gap (right) against the level."""
    sweep = stats[0].sweep
    fig = MplFigure(figsize=(6.4, 2.9), layout="constrained")
    ax_test, ax_gap = fig.subplots(1, 2, sharex=True)
    x = np.arange(len(sweep.levels))
    # Sources side by side around each level, so their error bars do not hide each other.
    offsets = np.linspace(-0.08, 0.08, len(stats)) if len(stats) > 1 else [0.0]
    for st, offset in zip(stats, offsets, strict=True):
        done = [i for i, lv in enumerate(st.levels) if lv.n]
        for ax, metric in ((ax_test, "test_accuracy"), (ax_gap, "gap")):
            spreads = [st.levels[i].final(metric) for i in done]
            ax.errorbar(x[done] + offset, [s.mean for s in spreads], yerr=[s.sd for s in spreads],
                        color=SOURCE_COLOURS[st.source], linestyle=SOURCE_LINES[st.source],
                        marker=SOURCE_MARKERS[st.source], markersize=5, capsize=3,
                        linewidth=1.2, label=source_name(st.source, lang))
    for ax, ylabel in ((ax_test, "ablations.fig.final_test"), (ax_gap, "ablations.fig.gap")):
        ax.set_xticks(x, [level_value(sweep.factor.name, v, lang) for v in sweep.levels],
                      fontsize=8)
        ax.set_xlabel(factor_name(stats[0], lang))
        ax.set_ylabel(tr(ylabel, lang))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax_gap.axhline(0.0, color=OKABE_ITO["grey"], linewidth=0.8)
    if len(stats) > 1:
        ax_test.legend(fontsize=8, frameon=False)
    gaps = "; ".join(
        tr("ablations.fig.gap_value", lang, source=source_name(st.source, lang),
           level=level_label(sweep.factor.name, lv.level, lang),
           test=percent(lv.final("test_accuracy").mean), gap=points(lv.final("gap").mean, lang))
        for st in stats for lv in st.finished)
    alt = tr("ablations.fig.levels.alt", lang, factor=factor_name(stats[0], lang), values=gaps)
    caption = tr("ablations.fig.levels.caption", lang, seeds=len(sweep.regime.seeds))
    return Figure(f"{sweep.id}-levels.png", None, png_bytes(fig), alt, caption)


def comparison_figure(stats: Sequence[SweepStats], lang: str) -> Figure | None:
    """Every level's training loss on one axis (per source): which converges fastest.

    Drawn for the factors judged by speed (the optimizer, BatchNorm, the initial scale).
    """
    sweep = stats[0].sweep
    if sweep.factor.focus != "speed":
        return None
    fig = MplFigure(figsize=(3.4 * len(stats) + 1.6, 3.2), layout="constrained")
    axes = fig.subplots(1, len(stats), sharey=True, squeeze=False)[0]
    every = max(1, sweep.base.epochs // MARKS_PER_LINE)
    for ax, st in zip(axes, stats, strict=True):
        ax.set_yscale("log")
        # Plain numbers at 1, 2, 5 × 10ⁿ: a loss spans a decade or two, where labels like
        # 2×10⁰ on every minor tick only get in the way.
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(PLAIN)
        ax.yaxis.set_minor_formatter(NullFormatter())
        missing = [level_value(sweep.factor.name, lv.level, lang) for lv in st.levels if not lv.n]
        if missing:
            note_missing(ax, listing(missing, lang), lang, top=True)
        for i, lv in enumerate(st.levels):
            if lv.n:
                band(ax, lv.curves, "train_loss", color=LEVEL_COLOURS[i % len(LEVEL_COLOURS)],
                     linestyle=LEVEL_LINES[i % len(LEVEL_LINES)],
                     marker=LEVEL_MARKERS[i % len(LEVEL_MARKERS)], markevery=every,
                     markersize=4, linewidth=1.2,
                     label=level_value(sweep.factor.name, lv.level, lang))
        ax.set_xlabel(tr("ablations.fig.epoch", lang))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(stats) > 1:
            ax.set_title(source_name(st.source, lang))
    axes[0].set_ylabel(tr("ablations.fig.train_loss", lang))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
    losses = "; ".join(
        tr("ablations.fig.loss_value", lang, source=source_name(st.source, lang),
           level=level_label(sweep.factor.name, lv.level, lang),
           loss=f"{lv.final('train_loss').mean:.3f}")
        for st in stats for lv in st.finished)
    alt = tr("ablations.fig.comparison.alt", lang, factor=factor_name(stats[0], lang),
             values=losses)
    caption = tr("ablations.fig.comparison.caption", lang, factor=factor_name(stats[0], lang),
                 seeds=len(sweep.regime.seeds))
    return Figure(f"{sweep.id}-comparison.png", None, png_bytes(fig), alt, caption)


def sweep_figures(stats: Sequence[SweepStats], lang: str) -> list[Figure]:
    """The figures of one sweep (``stats``: one per source, reference first)."""
    return draw((curves_figure, levels_figure, comparison_figure), stats, lang)
