"""The class report's figures: the score distribution and the outcomes of each check.

Same conventions as :mod:`grader.report.plots`: object API, pinned style, colour plus
hatch per outcome, PNG bytes that depend only on the data.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from grader.i18n import tr
from grader.report.class_data import ClassData
from grader.report.plots import (
    OKABE_ITO,
    OUTCOME_STYLE,
    Figure,
    add_outcome_legend,
    draw,
    png_bytes,
)
from grader.results import OUTCOMES

# Ten bins of ten percentage points; numpy puts a perfect score in the last one.
BIN_EDGES = np.linspace(0, 100, 11)


def score_percentages(data: ClassData) -> np.ndarray:
    """Each student's total as a percentage of their maximum (students with a maximum)."""
    students = data.students[data.students["max_score"] > 0]
    return (100 * students["score"] / students["max_score"]).to_numpy()


def score_histogram(data: ClassData, lang: str) -> Figure | None:
    """How many students scored in each tenth of the maximum, with the mean marked."""
    scores = score_percentages(data)
    if not len(scores):
        return None
    counts, _ = np.histogram(scores, bins=BIN_EDGES)
    fig = MplFigure(figsize=(6.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar(
        BIN_EDGES[:-1],
        counts,
        width=np.diff(BIN_EDGES),
        align="edge",
        color=OKABE_ITO["blue"],
        edgecolor="black",
        linewidth=0.6,
    )
    ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], padding=2, fontsize=8)
    mean = float(scores.mean())
    ax.axvline(
        mean,
        color=OKABE_ITO["vermillion"],
        linestyle="--",
        linewidth=1.5,
        label=tr("class.fig.histogram.mean", lang, mean=f"{mean:.1f}"),
    )
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xticks(BIN_EDGES)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter())
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(y=0.15)
    ax.set_xlabel(tr("class.fig.histogram.xlabel", lang))
    ax.set_ylabel(tr("class.fig.histogram.ylabel", lang))
    alt = tr(
        "class.fig.histogram.alt",
        lang,
        n=len(scores),
        mean=f"{mean:.1f}",
        median=f"{float(np.median(scores)):.1f}",
        min=f"{float(scores.min()):.1f}",
        max=f"{float(scores.max()):.1f}",
    )
    caption = tr("class.fig.histogram.caption", lang)
    return Figure("score_histogram.png", None, png_bytes(fig), alt, caption)


def pass_rates(data: ClassData, lang: str) -> Figure | None:
    """One bar per check split by outcome, the check most students miss on top."""
    counts = data.outcome_counts()
    if counts.empty:
        return None
    shares = counts[list(OUTCOMES)].div(counts["n"], axis=0)
    fig = MplFigure(figsize=(6.5, 1.3 + 0.3 * len(counts)), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(counts))
    left = np.zeros(len(counts))
    for outcome in OUTCOMES:
        colour, hatch = OUTCOME_STYLE[outcome]
        width = 100 * shares[outcome].to_numpy()
        ax.barh(
            positions, width, left=left, color=colour, hatch=hatch, edgecolor="black", linewidth=0.6
        )
        left += width
    for y, rate in zip(positions, counts["pass_rate"], strict=True):
        ax.text(101, y, f"{100 * rate:.0f}%", va="center", fontsize=8)
    ax.set_yticks(positions, list(counts.index), fontsize=8)
    ax.invert_yaxis()  # same top-to-bottom order as the table
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel(tr("class.fig.pass_rate.xlabel", lang))
    present = [o for o in OUTCOMES if counts[o].sum()]
    add_outcome_legend(fig, present, lang)
    alt = tr(
        "class.fig.pass_rate.alt",
        lang,
        count=len(counts),
        lowest=counts.index[0],
        lowest_rate=f"{100 * counts['pass_rate'].iloc[0]:.0f}",
        highest=counts.index[-1],
        highest_rate=f"{100 * counts['pass_rate'].iloc[-1]:.0f}",
    )
    caption = tr("class.fig.pass_rate.caption", lang)
    return Figure("pass_rates.png", None, png_bytes(fig), alt, caption)


def make_class_figures(data: ClassData, lang: str) -> list[Figure]:
    """The figures whose data is present, in reading order."""
    return draw((score_histogram, pass_rates), data, lang)
