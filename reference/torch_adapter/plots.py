"""Figures of the runs, drawn from their metrics CSV rows: the curves the course asks for
(§6.4: train/test loss and accuracy per epoch), the GAN's curves and sample grids.

Labels are Japanese with the English term beside them; matplotlib-fontja supplies the
font. Figures use matplotlib's object API (no pyplot state, no GUI backend).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib_fontja  # noqa: F401  (registers IPAexGothic for the Japanese labels)
import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

Rows = Sequence[Mapping[str, float]]
STYLE = {"font.family": ["IPAexGothic", "DejaVu Sans"], "font.size": 10,
         "axes.spines.top": False, "axes.spines.right": False}
# Okabe–Ito colours, told apart with every common colour-vision deficiency; train curves
# are solid and test curves dashed, so the figure also reads in greyscale.
TRAIN, TEST, OTHER = "#0072B2", "#D55E00", "#009E73"


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    return path


def _panel(ax: Axes, rows: Rows, series: Sequence[tuple[str, str, str, str]],
           ylabel: str) -> None:
    """Plot each ``(column, label, colour, linestyle)`` of ``rows`` against the epoch."""
    epochs = [r["epoch"] for r in rows]
    for column, label, colour, style in series:
        ax.plot(epochs, [r[column] for r in rows], label=label, color=colour, linestyle=style,
                marker="o", markersize=3)
    ax.set_xlabel("エポック (epoch)")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)


def learning_curves(rows: Rows, path: str | os.PathLike[str], title: str) -> Path:
    """The four curves of §6.4: loss and accuracy on the training and the test data.

    ``rows`` are metrics CSV rows with ``epoch``, ``train_loss``, ``test_loss``,
    ``train_accuracy`` and ``test_accuracy``.
    """
    with rc_context(STYLE):
        fig = Figure(figsize=(9, 3.6), layout="constrained")
        loss, acc = fig.subplots(1, 2)
        _panel(loss, rows, [("train_loss", "教師データ (train)", TRAIN, "-"),
                            ("test_loss", "テストデータ (test)", TEST, "--")],
               "損失 (cross-entropy loss)")
        _panel(acc, rows, [("train_accuracy", "教師データ (train)", TRAIN, "-"),
                           ("test_accuracy", "テストデータ (test)", TEST, "--")],
               "精度 (accuracy)")
        fig.suptitle(title)
        return _save(fig, path)


def gan_curves(rows: Rows, path: str | os.PathLike[str], fid_floor: float,
               fid_ceiling: float) -> Path:
    """DCGAN training per epoch: the two losses, D's mean outputs, and the FID between its
    real-vs-real floor and its noise ceiling."""
    with rc_context(STYLE):
        fig = Figure(figsize=(12, 3.6), layout="constrained")
        losses, outputs, fid = fig.subplots(1, 3)
        _panel(losses, rows, [("d_loss", "識別器 D (discriminator)", TRAIN, "-"),
                              ("g_loss", "生成器 G (generator)", TEST, "--")], "損失 (loss)")
        _panel(outputs, rows, [("d_real", "D(x) 本物 (real)", TRAIN, "-"),
                               ("d_fake", "D(G(z)) 偽物 (fake)", TEST, "--")],
               "識別器の出力の平均 (mean D output)")
        _panel(fid, rows, [("fid", "生成画像 (generated)", OTHER, "-")], "FID")
        for value, label, style in ((fid_floor, "本物どうし (real vs real)", ":"),
                                    (fid_ceiling, "ノイズ (noise)", "-.")):
            fid.axhline(value, color="black", linestyle=style, linewidth=1, label=label)
        fid.set_yscale("log")
        fid.legend(frameon=False, loc="center left")  # the curve falls from top left
        fig.suptitle("DCGAN の学習 (training)")
        return _save(fig, path)


def image_grid(images: np.ndarray, path: str | os.PathLike[str], cols: int = 8,
               title: str | None = None) -> Path:
    """Tile images into one figure.

    Parameters
    ----------
    images : numpy.ndarray, shape (N, H, W) greyscale or (N, H, W, 3) RGB, values in [0, 1]
    cols : images per row
    """
    n = len(images)
    rows = -(-n // cols)
    h, w = images.shape[1:3]
    canvas = np.ones((rows * (h + 2), cols * (w + 2), *images.shape[3:]))
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * (h + 2) + 1 : r * (h + 2) + 1 + h, c * (w + 2) + 1 : c * (w + 2) + 1 + w] = image
    with rc_context(STYLE):
        fig = Figure(figsize=(cols * 0.5 + 0.2, rows * 0.5 + (0.5 if title else 0.2)),
                     layout="constrained")
        ax = fig.subplots()
        ax.imshow(np.clip(canvas, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        return _save(fig, path)
