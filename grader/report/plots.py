"""The report's figures, drawn from the check records alone.

Each builder returns a :class:`Figure` (PNG bytes + alt text + caption) or None when
its data is absent, so a submission that skipped a task still gets a report. Figures
use matplotlib's object API (no pyplot state, no GUI backend) and a fixed style so
that the same results.json always gives the same PNG bytes.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import matplotlib_fontja  # noqa: F401  (registers the IPAexGothic font for Japanese labels)
import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from grader.i18n import tr
from grader.report.outcomes import outcome_word
from grader.report.records import ACCURACY_CHECK, LEARNING_CHECK, find_check
from grader.results import OUTCOMES, CheckResult

DPI = 110
MNIST_SIDE = 28
MAX_THUMBNAILS = 16
N_CLASSES = 10
# Misclassified mosaic geometry, in image pixels: room above each digit for its title.
_TITLE_GAP = 8
_SIDE_GAP = 4
_CELL_W = MNIST_SIDE + _SIDE_GAP
_CELL_H = MNIST_SIDE + _TITLE_GAP

# Okabe–Ito: distinguishable with every common form of colour blindness.
OKABE_ITO = {
    "orange": "#E69F00",
    "green": "#009E73",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}

# Colour plus hatch, so outcomes stay distinct in greyscale print too.
OUTCOME_STYLE: dict[str, tuple[str, str]] = {
    "passed": (OKABE_ITO["green"], ""),
    "failed": (OKABE_ITO["vermillion"], "//"),
    "error": (OKABE_ITO["orange"], "xx"),
    "timeout": (OKABE_ITO["purple"], ".."),
    "not_attempted": (OKABE_ITO["grey"], "--"),
    "unverified": (OKABE_ITO["blue"], "oo"),
}

# Pinned so a user's matplotlibrc cannot change the output; DejaVu Sans backs up any
# symbol that IPAexGothic lacks (e.g. ≥), which a check id or a label might contain.
STYLE: dict[str, Any] = {
    "font.family": ["IPAexGothic", "DejaVu Sans"],
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "hatch.linewidth": 0.8,
}


@dataclass(frozen=True)
class Figure:
    """A rendered figure: where it goes, its file name, and how to describe it."""

    name: str
    task: str | None
    png: bytes
    alt: str
    caption: str

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI, for the self-contained HTML report."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


T = TypeVar("T")
Builder = Callable[[list[CheckResult], str], Figure | None]


def draw(builders: Sequence[Callable[[T, str], Figure | None]], data: T, lang: str) -> list[Figure]:
    """Run each builder on ``data`` in the pinned style; keep the figures whose data is present."""
    with rc_context(STYLE):
        figures = [build(data, lang) for build in builders]
    return [f for f in figures if f is not None]


def make_figures(checks: list[CheckResult], lang: str) -> list[Figure]:
    """Every figure of a submission whose data is present, in the order of :data:`BUILDERS`."""
    return draw(BUILDERS, checks, lang)


def png_bytes(fig: MplFigure) -> bytes:
    """The figure as PNG bytes that depend only on what was drawn."""
    # Dropping the Software tag keeps the bytes independent of the matplotlib version.
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def add_outcome_legend(fig: MplFigure, outcomes: list[str], lang: str) -> None:
    """A one-row legend under the axes with the colour and hatch of each outcome given."""
    handles = [
        Patch(
            facecolor=OUTCOME_STYLE[o][0],
            hatch=OUTCOME_STYLE[o][1],
            edgecolor="black",
            label=outcome_word(o, lang),
        )
        for o in outcomes
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def learning_curve(checks: list[CheckResult], lang: str) -> Figure | None:
    """Task 3's cross-entropy per epoch."""
    check = find_check(checks, LEARNING_CHECK)
    losses = check.details.get("losses") if check else None
    if not losses or not all(_is_number(x) for x in losses):
        return None
    epochs = np.arange(1, len(losses) + 1)
    fig = MplFigure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(
        epochs,
        losses,
        color=OKABE_ITO["blue"],
        linestyle="-",
        marker="o",
        markersize=4,
        markevery=max(1, len(losses) // 30),
    )
    ax.set_xlabel(tr("report.fig.learning.xlabel", lang))
    ax.set_ylabel(tr("report.fig.learning.ylabel", lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    alt = tr(
        "report.fig.learning.alt",
        lang,
        epochs=len(losses),
        first=f"{losses[0]:.4g}",
        last=f"{losses[-1]:.4g}",
        min=f"{min(losses):.4g}",
    )
    return Figure(
        "learning_curve.png",
        check.task,
        png_bytes(fig),
        alt,
        tr("report.fig.learning.caption", lang),
    )


def _confusion(labels: list[Any], predictions: list[Any]) -> np.ndarray:
    """Rows: true digit; columns: predicted digit, then one column for invalid answers."""
    matrix = np.zeros((N_CLASSES, N_CLASSES + 1), dtype=int)
    for label, pred in zip(labels, predictions, strict=True):
        if isinstance(label, int) and 0 <= label < N_CLASSES:
            valid = isinstance(pred, int) and 0 <= pred < N_CLASSES
            matrix[label, pred if valid else N_CLASSES] += 1
    return matrix


def confusion_matrix(checks: list[CheckResult], lang: str) -> Figure | None:
    """Task 4's 10×10 confusion matrix plus an "invalid" column, counts written in each cell."""
    check = find_check(checks, ACCURACY_CHECK)
    labels = check.details.get("labels") if check else None
    predictions = check.details.get("predictions") if check else None
    if not labels or not isinstance(predictions, list) or len(labels) != len(predictions):
        return None
    matrix = _confusion(labels, predictions)
    fig = MplFigure(figsize=(6.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0, interpolation="nearest")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    invalid = tr("report.invalid", lang)
    ax.set_xticks(range(N_CLASSES + 1), [*map(str, range(N_CLASSES)), invalid])
    ax.set_yticks(range(N_CLASSES), [str(d) for d in range(N_CLASSES)])
    ax.set_xlabel(tr("report.fig.confusion.xlabel", lang))
    ax.set_ylabel(tr("report.fig.confusion.ylabel", lang))
    ax.spines[:].set_visible(False)
    # Numbers in the cells carry the information; the shading only helps the eye.
    dark = matrix.max() * 0.6
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(
                col,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if count > dark else "black",
            )
    alt = tr(
        "report.fig.confusion.alt",
        lang,
        n=int(matrix.sum()),
        correct=int(np.trace(matrix[:, :N_CLASSES])),
        invalid=int(matrix[:, -1].sum()),
    )
    return Figure(
        "confusion_matrix.png",
        check.task,
        png_bytes(fig),
        alt,
        tr("report.fig.confusion.caption", lang),
    )


def _thumbnail(entry: Any) -> np.ndarray | None:
    """A 28×28 uint8 image from a misclassified record, or None if it is malformed."""
    try:
        raw = base64.b64decode(entry["image"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        return None
    if len(raw) != MNIST_SIDE * MNIST_SIDE:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(MNIST_SIDE, MNIST_SIDE)


def _prediction_text(pred: Any, lang: str) -> str:
    return str(pred) if isinstance(pred, int) else tr("report.invalid", lang)


def _mosaic(images: list[np.ndarray], cols: int) -> np.ma.MaskedArray:
    """Tile images into one array, with masked gaps that leave room for titles."""
    rows = math.ceil(len(images) / cols)
    shape = (rows * _CELL_H, cols * _CELL_W)
    # Zeros under the mask: masked_all leaves garbage there that trips numpy warnings.
    mosaic = np.ma.masked_array(np.zeros(shape), mask=np.ones(shape, dtype=bool))
    for i, image in enumerate(images):
        top = (i // cols) * _CELL_H + _TITLE_GAP
        left = (i % cols) * _CELL_W + _SIDE_GAP // 2
        mosaic[top : top + MNIST_SIDE, left : left + MNIST_SIDE] = image
    return mosaic


def misclassified_grid(checks: list[CheckResult], lang: str) -> Figure | None:
    """Up to 16 misclassified task 4 images, each titled with its true and predicted digit."""
    check = find_check(checks, ACCURACY_CHECK)
    entries = check.details.get("misclassified") if check else None
    shown = [(e, img) for e in entries or [] if (img := _thumbnail(e)) is not None]
    shown = shown[:MAX_THUMBNAILS]
    if not shown:
        return None
    cols = min(4, len(shown))
    rows = math.ceil(len(shown) / cols)
    # One axes holding a mosaic: sixteen separate axes would cost most of the render time.
    inch_per_px = 1.8 / _CELL_W
    fig = MplFigure(figsize=(cols * _CELL_W * inch_per_px, rows * _CELL_H * inch_per_px))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(
        _mosaic([img for _, img in shown], cols),
        cmap="gray",
        vmin=0,
        vmax=255,
        interpolation="nearest",
    )
    ax.set_axis_off()
    titles = [
        tr(
            "report.fig.misclassified.title",
            lang,
            label=entry.get("label"),
            pred=_prediction_text(entry.get("predicted"), lang),
        )
        for entry, _ in shown
    ]
    for i, title in enumerate(titles):
        ax.text(
            (i % cols + 0.5) * _CELL_W - 0.5,
            (i // cols) * _CELL_H + _TITLE_GAP - 1.5,
            title,
            ha="center",
            va="bottom",
            fontsize=9,
        )
    alt = tr("report.fig.misclassified.alt", lang, count=len(shown), items="; ".join(titles))
    return Figure(
        "misclassified.png",
        check.task,
        png_bytes(fig),
        alt,
        tr("report.fig.misclassified.caption", lang, count=len(shown)),
    )


def timings(checks: list[CheckResult], lang: str) -> Figure | None:
    """Seconds per check, bars coloured and hatched by outcome."""
    if not checks or not any(c.seconds > 0 for c in checks):
        return None
    fig = MplFigure(figsize=(6.5, 1.2 + 0.28 * len(checks)), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(checks))
    styles = [OUTCOME_STYLE[c.outcome] for c in checks]
    bars = ax.barh(
        positions,
        [c.seconds for c in checks],
        color=[s[0] for s in styles],
        hatch=[s[1] for s in styles],
        edgecolor="black",
        linewidth=0.6,
    )
    ax.bar_label(bars, labels=[f"{c.seconds:.2f}" for c in checks], padding=3, fontsize=8)
    ax.set_yticks(positions, [c.id for c in checks], fontsize=8)
    ax.invert_yaxis()  # same top-to-bottom order as the report
    ax.set_xlabel(tr("report.fig.timings.xlabel", lang))
    ax.margins(x=0.12)
    add_outcome_legend(fig, [o for o in OUTCOMES if any(c.outcome == o for c in checks)], lang)
    slowest = max(checks, key=lambda c: c.seconds)
    alt = tr(
        "report.fig.timings.alt",
        lang,
        count=len(checks),
        total=f"{sum(c.seconds for c in checks):.2f}",
        slowest=slowest.id,
        seconds=f"{slowest.seconds:.2f}",
    )
    return Figure("timings.png", None, png_bytes(fig), alt, tr("report.fig.timings.caption", lang))


BUILDERS: tuple[Builder, ...] = (learning_curve, confusion_matrix, misclassified_grid, timings)
