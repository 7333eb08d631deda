"""The short Markdown reports of the runs: headings, tables, figures with relative links."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reference.torch_adapter.artifacts import read_metrics


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats with four decimals."""

    def cell(value: object) -> str:
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def figure(path: str | os.PathLike[str], report_dir: Path, alt: str) -> str:
    """An image line whose link is relative to the report, so the folder can be moved."""
    rel = Path(os.path.relpath(Path(path), report_dir)).as_posix()
    return f"![{alt}]({rel})\n\n*{alt}*"


def write(path: str | os.PathLike[str], title: str, sections: Sequence[tuple[str, str]]) -> Path:
    """Write ``# title`` and a ``## heading`` + body per section to ``path`` (UTF-8)."""
    path = Path(path)
    parts = [f"# {title}"] + [f"## {heading}\n\n{body.strip()}" for heading, body in sections]
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path


def summary_rows(rows: Sequence[dict[str, float]]) -> list[tuple[str, object]]:
    """What a reader checks first: the final metrics, the best test accuracy and where the
    test loss stopped falling (over-fitting shows as a test loss rising after it)."""
    last = rows[-1]
    best = max(rows, key=lambda r: r["test_accuracy"])
    lowest = min(rows, key=lambda r: r["test_loss"])
    return [
        ("エポック数 (epochs)", len(rows)),
        ("最終 教師データ精度 (final train accuracy)", last["train_accuracy"]),
        ("最終 テスト精度 (final test accuracy)", last["test_accuracy"]),
        ("精度の差 train − test (gap)", last["train_accuracy"] - last["test_accuracy"]),
        ("最高テスト精度 (best test accuracy)",
         f"{best['test_accuracy']:.4f} (epoch {int(best['epoch'])})"),
        ("テスト損失の最小 (lowest test loss)",
         f"{lowest['test_loss']:.4f} (epoch {int(lowest['epoch'])})"),
        ("最終 テスト損失 (final test loss)", last["test_loss"]),
        ("学習時間 (training time) [s]", f"{sum(r['seconds'] for r in rows):.0f}"),
    ]


def classifier_section(out: Path, name: str, title: str) -> str:
    """The body of a classifier run's section, from the files :func:`train_run
    <reference.torch_adapter.trainer.train_run>` and the curves left in ``out``."""
    model_txt = (out / f"{name}_model.txt").read_text(encoding="utf-8")
    rows = read_metrics(out / f"{name}_metrics.csv")
    return "\n\n".join([
        table(("項目 (item)", "値 (value)"), summary_rows(rows)),
        figure(out / f"{name}_curves.png", out,
               f"{title}: 損失と精度 (loss and accuracy per epoch)"),
        f"```text\n{model_txt.strip()}\n```",
    ])
