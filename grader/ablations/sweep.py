"""Declarative sweeps: which factor varies over which levels, on which network and data.

A sweep file (TOML) holds one ``[regime]`` — the data, the base network, how it is
trained, the seeds — and one or more ``[[sweep]]`` tables, each varying one factor::

    [regime]
    name = "overfit"
    train_size = 300            # the first N training images (default: all)
    seeds = [0, 1, 2]           # at least three
    epochs = 150
    batch_size = 100
    target_accuracy = 0.95      # "converged": the mean training accuracy reached this
    network = {hidden = [100, 100], activation = "relu", init = "he"}
    optimizer = {kind = "sgd", lr = 0.01}
    # regularizer = {kind = "l1", lam = 1e-3}   (e.g. to sweep dropout on top of L1)

    [[sweep]]
    name = "dropout_adam"
    factor = "dropout"
    levels = [0.0, 0.1, 0.2, 0.3, 0.5]
    optimizer = {kind = "adam"}  # a sweep may override network, optimizer, regularizer,
                                 # epochs and batch_size

For a given seed every level trains from the same initial weights and in the same
minibatch order; only the factor changes (:mod:`grader.ablations.network`).
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from reference.nn import Optimizer, Regularizer

SWEEPS_DIR = Path(__file__).resolve().parent.parent / "sweeps"
# The shipped sweep files, in the order of the report: the over-fitting regime first.
DEFAULTS = ("overfit", "normal")
MIN_SEEDS = 3
ACTIVATIONS = ("relu", "sigmoid")
INITS = ("he", "xavier", "course")
OPTIMIZER_NAMES = {"sgd": "SGD", "momentum": "Momentum", "adagrad": "AdaGrad",
                   "rmsprop": "RMSProp", "adadelta": "AdaDelta", "adam": "Adam"}

Level = float | str | bool


class SweepError(ValueError):
    """A sweep file that cannot be read or does not make sense; the message is one line."""


@dataclass(frozen=True)
class Network:
    """A multilayer perceptron: affine → [BatchNorm] → activation → [dropout] per hidden layer.

    ``init`` names the scheme of :func:`reference.nn.init.init_weights`; ``init_scale``
    multiplies the standard deviation of every initial weight.
    """

    hidden: tuple[int, ...]
    activation: str = "relu"
    init: str = "he"
    init_scale: float = 1.0
    batchnorm: bool = False
    dropout: float = 0.0


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer kind with every hyper-parameter spelled out (course defaults filled in)."""

    kind: str
    hyper: dict[str, float]


@dataclass(frozen=True)
class Penalty:
    """Weight decay: ``kind`` "l1" or "l2" with strength λ (``lam``) on every weight W."""

    kind: str
    lam: float


@dataclass(frozen=True)
class Setup:
    """Everything that decides a training run except the seed and the data."""

    network: Network
    optimizer: OptimizerSpec
    regularizer: Penalty | None
    epochs: int
    batch_size: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Factor:
    """What a sweep varies: how a level is read and applied, and what it is compared with.

    ``baseline`` is the level that switches the factor off (None when there is none, as
    for the optimizer); ``focus`` says what the factor is about: ``"gap"`` (regularisers,
    judged by the train–test gap) or ``"speed"`` (judged by how fast training converges).
    """

    name: str
    parse: Callable[[Any, str], Level]
    apply: Callable[[Setup, Level], Setup]
    baseline: Level | None
    focus: str


@dataclass(frozen=True)
class Regime:
    """The data and seeds shared by the sweeps of one file, and the base setup."""

    name: str
    path: str
    train_size: int | None
    test_size: int | None
    seeds: tuple[int, ...]
    target_accuracy: float
    base: Setup


@dataclass(frozen=True)
class Sweep:
    """One factor over its levels, on the setup of its regime (plus the sweep's overrides)."""

    name: str
    regime: Regime
    factor: Factor
    levels: tuple[Level, ...]
    base: Setup = field(repr=False)

    @property
    def id(self) -> str:
        """Unique over the sweeps of one report; used in file names."""
        return f"{self.regime.name}-{self.name}"

    def setup(self, level: Level) -> Setup:
        return self.factor.apply(self.base, level)


# --- levels ------------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    # TOML booleans are Python bools, which are ints: refuse them as numbers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SweepError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _fraction(value: Any, where: str) -> float:
    x = _number(value, where)
    if not 0.0 <= x < 1.0:
        raise SweepError(f"{where}: a dropout ratio ρ must be in [0, 1), got {value!r}")
    return x


def _non_negative(value: Any, where: str) -> float:
    x = _number(value, where)
    if x < 0:
        raise SweepError(f"{where}: λ must be ≥ 0, got {value!r}")
    return x


def _positive(value: Any, where: str) -> float:
    x = _number(value, where)
    if x <= 0:
        raise SweepError(f"{where}: expected a number > 0, got {value!r}")
    return x


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SweepError(f"{where}: expected true or false, got {value!r}")
    return value


def _optimizer_kind(value: Any, where: str) -> str:
    if value not in Optimizer.registry:
        raise SweepError(f"{where}: unknown optimizer {value!r} "
                         f"(known: {', '.join(OPTIMIZER_NAMES)})")
    return value


def course_defaults(kind: str) -> dict[str, float]:
    """The hyper-parameters of ``kind`` as the reference library (the course) sets them."""
    params = inspect.signature(Optimizer.registry[kind]).parameters.values()
    return {p.name: p.default for p in params}


def _network(setup: Setup, **changes: Any) -> Setup:
    return replace(setup, network=replace(setup.network, **changes))


def _penalty(kind: str) -> Callable[[Setup, Level], Setup]:
    # λ = 0 is "no regularizer", so that level shares its cached runs with other sweeps.
    return lambda s, lam: replace(s, regularizer=Penalty(kind, lam) if lam else None)


FACTORS: dict[str, Factor] = {
    "dropout": Factor("dropout", _fraction, lambda s, v: _network(s, dropout=v), 0.0, "gap"),
    "l1": Factor("l1", _non_negative, _penalty("l1"), 0.0, "gap"),
    "l2": Factor("l2", _non_negative, _penalty("l2"), 0.0, "gap"),
    "optimizer": Factor(
        "optimizer", _optimizer_kind,
        lambda s, v: replace(s, optimizer=OptimizerSpec(v, course_defaults(v))), None, "speed"),
    "batchnorm": Factor("batchnorm", _flag, lambda s, v: _network(s, batchnorm=v), False,
                        "speed"),
    "init_scale": Factor("init_scale", _positive, lambda s, v: _network(s, init_scale=v), 1.0,
                         "speed"),
}


# --- reading a file ----------------------------------------------------------------------

REGIME_KEYS = ("name", "train_size", "test_size", "seeds", "target_accuracy")
SETUP_KEYS = ("network", "optimizer", "regularizer", "epochs", "batch_size")
SWEEP_KEYS = ("name", "factor", "levels")


def _check_keys(table: Any, known: Sequence[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SweepError(f"{where}: expected a table, got {table!r}")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise SweepError(f"{where}: unknown key(s) {', '.join(unknown)} "
                         f"(known: {', '.join(known)})")
    return table


def _integer(value: Any, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SweepError(f"{where}: expected an integer ≥ {minimum}, got {value!r}")
    return value


def _choice(value: Any, choices: Sequence[str], where: str) -> str:
    if value not in choices:
        raise SweepError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def parse_network(table: Any, where: str) -> Network:
    t = _check_keys(table, [f.name for f in fields(Network)], where)
    hidden = t.get("hidden")
    if not isinstance(hidden, list) or not hidden:
        raise SweepError(f"{where}.hidden: expected a list of layer widths, got {hidden!r}")
    return Network(
        hidden=tuple(_integer(h, f"{where}.hidden") for h in hidden),
        activation=_choice(t.get("activation", "relu"), ACTIVATIONS, f"{where}.activation"),
        init=_choice(t.get("init", "he"), INITS, f"{where}.init"),
        init_scale=_positive(t.get("init_scale", 1.0), f"{where}.init_scale"),
        batchnorm=_flag(t.get("batchnorm", False), f"{where}.batchnorm"),
        dropout=_fraction(t.get("dropout", 0.0), f"{where}.dropout"),
    )


def parse_optimizer(table: Any, where: str) -> OptimizerSpec:
    if not isinstance(table, dict):
        raise SweepError(f"{where}: expected a table like {{kind = \"sgd\", lr = 0.01}}")
    kind = _optimizer_kind(table.get("kind"), f"{where}.kind")
    hyper = course_defaults(kind)
    _check_keys(table, ["kind", *hyper], where)
    given = {k: _number(v, f"{where}.{k}") for k, v in table.items() if k != "kind"}
    return OptimizerSpec(kind, {**hyper, **given})


def parse_regularizer(table: Any, where: str) -> Penalty | None:
    t = _check_keys(table, ("kind", "lam"), where)
    kind = _choice(t.get("kind"), sorted(Regularizer.registry), f"{where}.kind")
    lam = _non_negative(t.get("lam", 0.0), f"{where}.lam")
    return Penalty(kind, lam) if lam else None


def parse_setup(table: dict[str, Any], where: str) -> Setup:
    for key in ("network", "optimizer", "epochs"):
        if key not in table:
            raise SweepError(f"{where}: missing {key}")
    regularizer = table.get("regularizer")
    return Setup(
        network=parse_network(table["network"], f"{where}.network"),
        optimizer=parse_optimizer(table["optimizer"], f"{where}.optimizer"),
        regularizer=None if regularizer is None else parse_regularizer(
            regularizer, f"{where}.regularizer"),
        epochs=_integer(table["epochs"], f"{where}.epochs"),
        batch_size=_integer(table.get("batch_size", 100), f"{where}.batch_size"),
    )


def parse_regime(table: Any, path: Path) -> Regime:
    where = f"{path}: [regime]"
    t = _check_keys(table, (*REGIME_KEYS, *SETUP_KEYS), where)
    raw = t.get("seeds", list(range(MIN_SEEDS)))
    seeds = tuple(_integer(s, f"{where}.seeds", 0) for s in raw) if isinstance(raw, list) else ()
    if len(set(seeds)) != len(seeds) or len(seeds) < MIN_SEEDS:
        raise SweepError(f"{where}.seeds: give at least {MIN_SEEDS} different seeds, "
                         f"got {raw!r}")
    target = _number(t.get("target_accuracy", 0.95), f"{where}.target_accuracy")
    if not 0 < target <= 1:
        raise SweepError(f"{where}.target_accuracy: must be in (0, 1], got {target}")
    sizes = {k: None if t.get(k) is None else _integer(t[k], f"{where}.{k}")
             for k in ("train_size", "test_size")}
    return Regime(
        name=_slug(t.get("name", path.stem), f"{where}.name"),
        path=str(path),
        seeds=seeds,
        target_accuracy=target,
        base=parse_setup({k: t[k] for k in SETUP_KEYS if k in t}, where),
        **sizes,
    )


def _slug(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or not value.replace("_", "").isalnum() \
            or not value.isascii():
        raise SweepError(f"{where}: a name must be letters, digits and _, got {value!r}")
    return value


def parse_sweep(table: Any, regime: Regime, where: str) -> Sweep:
    t = _check_keys(table, (*SWEEP_KEYS, *SETUP_KEYS), where)
    name = t.get("factor")
    if name not in FACTORS:
        raise SweepError(f"{where}: unknown factor {name!r} (known: {', '.join(FACTORS)})")
    factor = FACTORS[name]
    raw = t.get("levels")
    if not isinstance(raw, list) or len(raw) < 2:
        raise SweepError(f"{where}.levels: give at least two levels, got {raw!r}")
    levels = tuple(factor.parse(v, f"{where}.levels[{i}]") for i, v in enumerate(raw))
    if len(set(levels)) != len(levels):
        raise SweepError(f"{where}.levels: a level is repeated in {raw!r}")
    overrides = {k: t[k] for k in SETUP_KEYS if k in t}
    base = regime.base
    if overrides:
        merged = {**{k: v for k, v in _setup_table(base).items() if v is not None}, **overrides}
        base = parse_setup(merged, where)
    return Sweep(_slug(t.get("name", name), f"{where}.name"), regime, factor, levels, base)


def _setup_table(setup: Setup) -> dict[str, Any]:
    """A setup as the TOML table that reads back into it."""
    table = setup.to_dict()
    table["network"]["hidden"] = list(setup.network.hidden)
    table["optimizer"] = {"kind": setup.optimizer.kind, **setup.optimizer.hyper}
    return table


def load_file(path: Path) -> list[Sweep]:
    """The sweeps of one file; every problem is a :class:`SweepError` naming file and key."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SweepError(f"{path}: cannot read the file ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise SweepError(f"{path}: not valid TOML ({e})") from None
    _check_keys(doc, ("regime", "sweep"), str(path))
    if "regime" not in doc or not doc.get("sweep"):
        raise SweepError(f"{path}: needs a [regime] table and at least one [[sweep]]")
    regime = parse_regime(doc["regime"], path)
    if not isinstance(doc["sweep"], list):
        raise SweepError(f"{path}: write each sweep as [[sweep]], not [sweep]")
    return [parse_sweep(t, regime, f"{path}: sweep {i + 1}") for i, t in enumerate(doc["sweep"])]


def default_files() -> list[Path]:
    """The shipped sweep files (``grader/sweeps/<name>.toml`` for each of :data:`DEFAULTS`)."""
    return [SWEEPS_DIR / f"{name}.toml" for name in DEFAULTS]


def resolve(name_or_path: str) -> Path:
    """A sweep file by path, or a shipped one by its stem (``overfit`` → its .toml)."""
    shipped = SWEEPS_DIR / f"{name_or_path}.toml"
    if not name_or_path.endswith(".toml") and shipped.is_file():
        return shipped
    return Path(name_or_path)


def load(names_or_paths: Sequence[str] | None = None) -> list[Sweep]:
    """The sweeps of the given files (default: the shipped ones); ids must be unique."""
    paths = [resolve(p) for p in names_or_paths] if names_or_paths else default_files()
    sweeps = [s for path in paths for s in load_file(path)]
    regimes: dict[str, str] = {}
    names: set[str] = set()
    for s in sweeps:
        if regimes.setdefault(s.regime.name, s.regime.path) != s.regime.path:
            raise SweepError(f"{s.regime.path}: regime {s.regime.name!r} is already defined "
                             f"in {regimes[s.regime.name]}; give it another name")
        if s.id in names:
            raise SweepError(f"{s.regime.path}: two sweeps named {s.name!r}; give each its own "
                             "name = \"…\"")
        names.add(s.id)
    return sweeps
