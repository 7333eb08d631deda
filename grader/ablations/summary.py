"""What a sweep's numbers say: statistics over seeds per level, and findings in words.

Numbers are over the seeds whose run finished; a level with none is reported as not
available or failed, never as a number. "Final" means the last epoch; the train–test
gap is final train accuracy − final test accuracy, the train accuracy being measured in
test mode (so dropout's noise is not counted as a gap). Curves are the mean over seeds
with a band of ±1 standard deviation.

Findings state only what the numbers show. A difference between two levels is given
with the number of seeds in which it holds: each seed pairs the levels on the same
initial weights and minibatches, so "smaller in 3 of 3 seeds" is a paired comparison,
and anything less is called within the spread over seeds. A level whose test accuracy
stayed near chance is said not to have learned, however small its gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from grader.ablations.sweep import OPTIMIZER_NAMES, Level, Sweep
from grader.i18n import tr
from grader.report.view import percent

METRICS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss")
# Ten classes: 10 % is chance; below twice that a network has not learned to classify.
NEAR_CHANCE = 0.2


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation over ``n`` seeds (sd is 0 for one seed)."""

    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: pd.Series) -> Spread:
        n = len(values)
        if n == 0:
            return cls(math.nan, math.nan, 0)
        return cls(float(values.mean()), float(values.std(ddof=1)) if n > 1 else 0.0, n)


@dataclass(frozen=True)
class LevelStats:
    """One level of one source.

    ``finals``: one row per finished seed (index ``seed``) with the final value of each of
    :data:`METRICS` and ``gap``. ``curves``: index ``epoch``, columns ``(metric, "mean" |
    "sd")``. ``to_target``: the first epoch at which the mean training accuracy reached
    the regime's target, None when it never did.
    """

    level: Level
    status: str
    message: str
    finals: pd.DataFrame
    curves: pd.DataFrame
    to_target: int | None

    @property
    def n(self) -> int:
        return len(self.finals)

    def final(self, metric: str) -> Spread:
        return Spread.of(self.finals[metric])


@dataclass(frozen=True)
class SweepStats:
    """Every level of one sweep as trained by one source (``"reference"``/``"submission"``)."""

    sweep: Sweep
    source: str
    levels: list[LevelStats]

    @property
    def finished(self) -> list[LevelStats]:
        return [s for s in self.levels if s.n]

    @property
    def baseline(self) -> LevelStats | None:
        """The level that switches the factor off, when the sweep has it and it ran."""
        return next((s for s in self.finished if s.level == self.sweep.factor.baseline), None)

    def smaller_gap(self, stats: LevelStats) -> tuple[int, int]:
        """In how many seeds (of those both ran) the gap of ``stats`` is below the baseline's."""
        base = self.baseline
        if base is None:
            return 0, 0
        paired = pd.concat({"gap": stats.finals["gap"], "base": base.finals["gap"]}, axis=1,
                           join="inner")
        return int((paired["gap"] < paired["base"]).sum()), len(paired)


def level_stats(rows: pd.DataFrame, level: Level, target: float) -> LevelStats:
    """The statistics of one level from its rows of the tidy table."""
    status_by_seed = rows.groupby("seed")["status"].first()
    failed = rows[rows["status"] != "ok"]
    status = "ok"
    if not failed.empty:
        status = "not_available" if (status_by_seed == "not_available").any() else "error"
    done = rows[rows["status"] == "ok"].dropna(subset=["epoch"]).sort_values(["seed", "epoch"])
    finals = done.groupby("seed")[list(METRICS)].last()
    finals["gap"] = finals["train_accuracy"] - finals["test_accuracy"]
    curves = done.groupby("epoch")[list(METRICS)].agg(["mean", "std"]).fillna(0.0)
    curves = curves.rename(columns={"std": "sd"}, level=1)
    reached = curves.index[curves[("train_accuracy", "mean")] >= target] if len(curves) else []
    return LevelStats(level, status, str(failed["message"].iloc[0]) if len(failed) else "",
                      finals, curves, int(reached[0]) if len(reached) else None)


def sweep_stats(table: pd.DataFrame, sweep: Sweep, source: str) -> SweepStats:
    """The statistics of every level of ``sweep`` trained by ``source``."""
    rows = table[(table["regime"] == sweep.regime.name) & (table["sweep"] == sweep.name)
                 & (table["source"] == source)]
    return SweepStats(sweep, source, [
        level_stats(rows[rows["level_index"] == i], level, sweep.regime.target_accuracy)
        for i, level in enumerate(sweep.levels)])


# --- words ---------------------------------------------------------------------------------


def level_value(factor: str, level: Level, lang: str) -> str:
    """A level as a tick label: ``0.1``, ``Adam``, ``on``."""
    if factor == "optimizer":
        return OPTIMIZER_NAMES[str(level)]
    if isinstance(level, bool):
        return tr(f"ablations.level.{'on' if level else 'off'}", lang)
    return f"{level:g}"


def level_label(factor: str, level: Level, lang: str) -> str:
    """A level in a sentence: ``ρ = 0.1``, ``λ = 0.001``, ``Adam``."""
    return tr(f"ablations.level.{factor}", lang, value=level_value(factor, level, lang))


def points(x: float, lang: str) -> str:
    """A difference of accuracies in percentage points: ``20.7 pt``."""
    return tr("ablations.unit.points", lang, value=f"{100 * x:.1f}")


def plain(spread: Spread) -> str:
    """An accuracy (or gap) spread in percent without the unit: ``79.3 ± 1.9``; ``—`` if none."""
    return f"{100 * spread.mean:.1f} ± {100 * spread.sd:.1f}" if spread.n else "—"


def spread_points(spread: Spread, lang: str) -> str:
    """``15.1 ± 0.8 pt``."""
    return tr("ablations.unit.points", lang, value=plain(spread))


def listing(texts: list[str], lang: str) -> str:
    return tr("ablations.list.separator", lang).join(texts)


def _labels(stats: SweepStats, levels: list[LevelStats], lang: str) -> str:
    return listing([level_label(stats.sweep.factor.name, s.level, lang) for s in levels], lang)


def learned(stats: SweepStats) -> list[LevelStats]:
    """The finished levels whose test accuracy rose clearly above chance."""
    return [s for s in stats.finished if s.final("test_accuracy").mean >= NEAR_CHANCE]


def _gap_findings(stats: SweepStats, lang: str) -> list[str]:
    # A network that did not learn has no gap to speak of: such levels are left out.
    candidates = learned(stats)
    if not candidates:
        return []
    factor = stats.sweep.factor.name
    best = min(candidates, key=lambda s: s.final("gap").mean)
    base = stats.baseline
    if base is None:
        return [tr("ablations.finding.gap_smallest_plain", lang,
                   level=level_label(factor, best.level, lang),
                   gap=spread_points(best.final("gap"), lang))]
    base_label = level_label(factor, base.level, lang)
    said = [tr("ablations.finding.baseline", lang, level=base_label,
               train=percent(base.final("train_accuracy").mean),
               test=percent(base.final("test_accuracy").mean),
               gap=points(base.final("gap").mean, lang))]
    if best is base:
        return [*said, tr("ablations.finding.gap_not_smaller", lang, level=base_label)]
    k, n = stats.smaller_gap(best)
    said.append(tr("ablations.finding.gap_smallest", lang,
                   level=level_label(factor, best.level, lang),
                   gap=spread_points(best.final("gap"), lang), base=base_label,
                   base_gap=points(base.final("gap").mean, lang), k=k, n=n,
                   test=percent(best.final("test_accuracy").mean),
                   base_test=percent(base.final("test_accuracy").mean)))
    if k < n:
        said.append(tr("ablations.finding.within_spread", lang, k=k, n=n))
    return said


def _speed_findings(stats: SweepStats, lang: str) -> list[str]:
    factor, target = stats.sweep.factor.name, percent(stats.sweep.regime.target_accuracy)
    reached = sorted((s for s in stats.finished if s.to_target is not None),
                     key=lambda s: s.to_target)
    said = []
    if reached:
        first = [s for s in reached if s.to_target == reached[0].to_target]
        said.append(tr("ablations.finding.fastest", lang, levels=_labels(stats, first, lang),
                       target=target, epoch=reached[0].to_target))
        later = reached[len(first):]
        if later:
            said.append(tr("ablations.finding.reached_later", lang, list=listing([
                tr("ablations.finding.at_epoch", lang, level=level_label(factor, s.level, lang),
                   epoch=s.to_target) for s in later], lang)))
    never = [s for s in stats.finished if s.to_target is None]
    if never:
        said.append(tr("ablations.finding.not_reached", lang, levels=_labels(stats, never, lang),
                       target=target, epochs=stats.sweep.base.epochs))
    lowest = min(stats.finished, key=lambda s: s.final("train_loss").mean)
    said.append(tr("ablations.finding.lowest_loss", lang,
                   level=level_label(factor, lowest.level, lang),
                   loss=f"{lowest.final('train_loss').mean:.3f}"))
    return said


def findings(stats: SweepStats, lang: str) -> list[str]:
    """Short sentences on what the sweep's numbers show, in ``lang``."""
    factor = stats.sweep.factor.name
    said = []
    if stats.finished:
        focus = _gap_findings if stats.sweep.factor.focus == "gap" else _speed_findings
        said += focus(stats, lang)
        best = max(stats.finished, key=lambda s: s.final("test_accuracy").mean)
        said.append(tr("ablations.finding.best_test", lang,
                       level=level_label(factor, best.level, lang),
                       test=plain(best.final("test_accuracy"))))
        stuck = [s for s in stats.finished if s not in learned(stats)]
        if stuck:
            said.append(tr("ablations.finding.near_chance", lang,
                           levels=_labels(stats, stuck, lang), limit=percent(NEAR_CHANCE)))
    else:
        said.append(tr("ablations.finding.nothing_ran", lang))
    for s in stats.levels:
        if s.status != "ok":
            said.append(tr(f"ablations.finding.{s.status}", lang,
                           level=level_label(factor, s.level, lang), reason=s.message))
    return said


def compare_with_reference(ref: SweepStats, sub: SweepStats, lang: str) -> str | None:
    """The largest difference in mean final test accuracy over the levels both trained."""
    diffs = [(abs(s.final("test_accuracy").mean - r.final("test_accuracy").mean), s.level)
             for r, s in zip(ref.levels, sub.levels, strict=True) if r.n and s.n]
    if not diffs:
        return None
    diff, level = max(diffs, key=lambda d: d[0])
    return tr("ablations.finding.vs_reference", lang, diff=points(diff, lang),
              level=level_label(ref.sweep.factor.name, level, lang))
