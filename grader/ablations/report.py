"""The ablation report: per regime and sweep, the setup, the findings, a table and figures.

Rendered from the tidy table alone (which the run cache rebuilds instantly), into
``ablations.md`` (figures in ``figures/``), a self-contained ``ablations.html`` and the
tidy ``ablations.csv``. Every sentence is worded here or in :mod:`.summary`; the
templates only lay it out, with the shared macros of the other reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.ablations.data import RegimeData
from grader.ablations.execute import Results
from grader.ablations.network import N_CLASSES
from grader.ablations.plots import factor_name, source_name, sweep_figures
from grader.ablations.summary import (
    LevelStats,
    SweepStats,
    compare_with_reference,
    findings,
    level_value,
    plain,
    sweep_stats,
)
from grader.ablations.sweep import OPTIMIZER_NAMES, OptimizerSpec, Regime, Setup, Sweep
from grader.i18n import tr
from grader.report.plots import Figure
from grader.report.render import check_lang, write_report
from grader.report.view import Cell, Fact, NumberedFigure, Table, number_figures, percent
from grader.sandbox import Sandbox

CSV_NAME = "ablations.csv"
STATUS_SYMBOLS = {"ok": "✓", "not_available": "—", "error": "✗"}


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one source; ``source`` is empty when the reference ran alone."""

    source: str
    sentences: list[str]


@dataclass(frozen=True)
class SweepSection:
    anchor: str
    heading: str
    setup: list[Fact]
    findings: list[FindingGroup]
    table: Table
    figures: list[NumberedFigure]


@dataclass(frozen=True)
class RegimeSection:
    anchor: str
    heading: str
    facts: list[Fact]
    sweeps: list[SweepSection]


@dataclass
class AblationView:
    """Everything the ablation templates need, worded in ``lang``."""

    lang: str
    overview: list[Fact]
    notes: list[str]
    warnings: list[str]
    regimes: list[RegimeSection]
    footer: str


def optimizer_text(spec: OptimizerSpec) -> str:
    """``SGD (lr = 0.01)``."""
    hyper = ", ".join(f"{k} = {v:g}" for k, v in spec.hyper.items())
    return f"{OPTIMIZER_NAMES[spec.kind]} ({hyper})" if hyper else OPTIMIZER_NAMES[spec.kind]


def network_text(setup: Setup, n_features: int, lang: str) -> str:
    """``fully connected 784–100–10, relu, he initialisation ×1`` and any dropout or decay."""
    net = setup.network
    widths = "–".join(str(w) for w in (n_features, *net.hidden, N_CLASSES))
    extras = [tr("ablations.network.batchnorm", lang)] if net.batchnorm else []
    if net.dropout:
        extras.append(tr("ablations.level.dropout", lang, value=f"{net.dropout:g}"))
    if setup.regularizer is not None:
        extras.append(tr(f"ablations.level.{setup.regularizer.kind}", lang,
                         value=f"{setup.regularizer.lam:g}"))
    return tr("ablations.network.mlp", lang, widths=widths, activation=net.activation,
              init=net.init, scale=f"{net.init_scale:g}", extras="".join(f", {e}" for e in extras))


def schedule_text(setup: Setup, lang: str) -> str:
    return tr("ablations.regime.schedule_value", lang, epochs=setup.epochs,
              batch=setup.batch_size)


def regime_facts(regime: Regime, data: RegimeData, lang: str) -> list[Fact]:
    rows = [
        ("data", tr("ablations.regime.data_value", lang, n_train=data.n_train, n_test=data.n_test,
                    source=data.source)),
        ("network", network_text(regime.base, data.n_features, lang)),
        ("optimizer", optimizer_text(regime.base.optimizer)),
        ("schedule", schedule_text(regime.base, lang)),
        ("seeds", ", ".join(str(s) for s in regime.seeds)),
        ("target", percent(regime.target_accuracy)),
        ("file", Path(regime.path).name),
    ]
    return [Fact(tr(f"ablations.regime.{key}", lang), value) for key, value in rows]


def sweep_setup(sweep: Sweep, data: RegimeData, lang: str) -> list[Fact]:
    """The levels, the optimizer(s), and whatever the sweep changes of its regime's setup."""
    levels = ", ".join(level_value(sweep.factor.name, v, lang) for v in sweep.levels)
    facts = [Fact(tr("ablations.sweep.levels", lang), levels)]
    if sweep.factor.name == "optimizer":
        facts.append(Fact(tr("ablations.sweep.hyper", lang),
                          "; ".join(optimizer_text(sweep.setup(v).optimizer)
                                    for v in sweep.levels)))
    else:
        facts.append(Fact(tr("ablations.regime.optimizer", lang),
                          optimizer_text(sweep.base.optimizer)))
    base, own = sweep.regime.base, sweep.base
    if (own.network, own.regularizer) != (base.network, base.regularizer):
        facts.append(Fact(tr("ablations.regime.network", lang),
                          network_text(own, data.n_features, lang)))
    if (own.epochs, own.batch_size) != (base.epochs, base.batch_size):
        facts.append(Fact(tr("ablations.regime.schedule", lang), schedule_text(own, lang)))
    return facts


def _row(stats: SweepStats, lv: LevelStats, with_source: bool, lang: str) -> tuple[Cell, ...]:
    sweep = stats.sweep
    cells = [level_value(sweep.factor.name, lv.level, lang)]
    if with_source:
        cells.append(source_name(stats.source, lang))
    cells += [plain(lv.final(metric)) for metric in ("test_accuracy", "train_accuracy", "gap")]
    if sweep.factor.focus == "gap":
        k, n = stats.smaller_gap(lv) if lv is not stats.baseline else (0, 0)
        cells.append(tr("ablations.table.k_of_n", lang, k=k, n=n) if n else "—")
    else:
        cells.append(str(lv.to_target) if lv.to_target is not None else "—")
    cells.append(f"{STATUS_SYMBOLS[lv.status]} {tr(f'ablations.status.{lv.status}', lang)}")
    return tuple(Cell(c) for c in cells)


def sweep_table(stats: list[SweepStats], lang: str) -> Table:
    """Rows: level (× source); columns: final accuracies, gap, the focus column, status."""
    sweep = stats[0].sweep
    with_source = len(stats) > 1
    focus = ("ablations.table.smaller_gap" if sweep.factor.focus == "gap"
             else "ablations.table.to_target")
    head = [factor_name(stats[0], lang)]
    if with_source:
        head.append(tr("ablations.table.source", lang))
    head += [tr(f"ablations.table.{k}", lang) for k in ("test", "train", "gap")]
    head += [tr(focus, lang, target=percent(sweep.regime.target_accuracy)),
             tr("ablations.table.status", lang)]
    rows = tuple(_row(st, st.levels[i], with_source, lang)
                 for i in range(len(sweep.levels)) for st in stats)
    numeric = (False, *([False] if with_source else []), True, True, True, True, False)
    return Table("ablation", tuple(head), rows, numeric)


def sweep_findings(stats: list[SweepStats], lang: str) -> list[FindingGroup]:
    if len(stats) == 1:
        return [FindingGroup("", findings(stats[0], lang))]
    groups = [FindingGroup(source_name(st.source, lang), findings(st, lang)) for st in stats]
    versus = compare_with_reference(stats[0], stats[1], lang)
    if versus is not None:
        groups[1].sentences.append(versus)
    return groups


def sweep_heading(sweep: Sweep, lang: str) -> str:
    factor = tr(f"ablations.factor.{sweep.factor.name}", lang)
    if sweep.factor.name == "optimizer":
        return factor
    return tr("ablations.sweep.heading", lang, factor=factor,
              optimizer=OPTIMIZER_NAMES[sweep.base.optimizer.kind])


def build(results: Results, lang: str) -> tuple[AblationView, list[Figure]]:
    """The view and its figures (in reading order)."""
    roles = [s.role for s in results.sources]
    per_sweep = []
    for sweep in results.sweeps:
        stats = [sweep_stats(results.table, sweep, role) for role in roles]
        per_sweep.append((sweep, stats, sweep_figures(stats, lang)))
    figures = [f for _, _, figs in per_sweep for f in figs]
    numbered = {n.figure.name: n for n in number_figures(figures, lang)}
    regimes: dict[str, RegimeSection] = {}
    for sweep, stats, figs in per_sweep:
        regime = sweep.regime
        data = results.data[regime.name]
        if regime.name not in regimes:
            regimes[regime.name] = RegimeSection(
                f"regime-{regime.name}", tr("ablations.regime.heading", lang, name=regime.name),
                regime_facts(regime, data, lang), [])
        regimes[regime.name].sweeps.append(SweepSection(
            sweep.id, sweep_heading(sweep, lang), sweep_setup(sweep, data, lang),
            sweep_findings(stats, lang), sweep_table(stats, lang),
            [numbered[f.name] for f in figs]))
    view = AblationView(lang, overview(results, lang),
                        [tr("ablations.note.method", lang), tr("ablations.note.metrics", lang)],
                        warnings(results, lang), list(regimes.values()),
                        tr("ablations.footer", lang, version=__version__))
    return view, figures


def overview(results: Results, lang: str) -> list[Fact]:
    table = results.table
    runs = table.drop_duplicates("run")
    seconds = table.drop_duplicates(["run", "epoch"])["seconds"].sum()
    sources = " / ".join(
        source_name(s.role, lang) + ("" if s.is_reference else f" ({s.name})")
        for s in results.sources)
    rows = [
        ("sources", sources),
        ("sweeps", str(len(results.sweeps))),
        ("runs", tr("ablations.overview.runs_value", lang, runs=len(runs),
                    trials=table.drop_duplicates(["sweep", "regime", "level_index", "seed",
                                                  "source"]).shape[0])),
        ("time", tr("ablations.overview.time_value", lang, seconds=f"{seconds:.0f}")),
        ("csv", CSV_NAME),
    ]
    return [Fact(tr(f"ablations.overview.{key}", lang), value) for key, value in rows]


def warnings(results: Results, lang: str) -> list[str]:
    """A warning for each submission whose code ran without the sandbox's full isolation."""
    said = []
    for s in results.sources:
        if s.submission is not None:
            box = Sandbox(s.submission.root, None, s.use_bwrap)
            if not box.isolated:
                said.append(tr("ablations.note.reduced_isolation", lang, reason=box.reason))
    return said


def write_csv(results: Results, path: Path) -> Path:
    results.table.to_csv(path, index=False, lineterminator="\n")
    return path


def render(results: Results, out_dir: Path, lang: str) -> dict[str, Path]:
    """Write ``ablations.md`` (+ ``figures/``), ``ablations.html`` and ``ablations.csv``."""
    check_lang(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    view, figures = build(results, lang)
    paths = write_report("ablations", "ablations", view, figures, out_dir, lang)
    return {**paths, "csv": write_csv(results, out_dir / CSV_NAME)}
