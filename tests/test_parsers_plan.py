"""Property tests of plan loading (grader.plan.load): a plan written with valid values loads
with exactly those values, and any other TOML document, or any bytes, is either a plan whose
values have the types the grader relies on or a one-line PlanError naming the file."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.grade import known_checks
from grader.plan import LIMIT_KEYS, TEST_VISIBILITIES, VISIBILITIES, Plan, PlanError, load
from grader.sandbox import Limits

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KNOWN = known_checks()
CHECK_IDS = sorted(KNOWN)
INT64 = st.integers(-(2**63), 2**63 - 1)


# --- writing TOML (tomllib only reads) -------------------------------------------------------


def toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """Inline TOML for the values TOML has (tables inline, so any nesting is one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else {math.inf: "inf", -math.inf: "-inf"}.get(
            value, repr(value))
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return "{" + ", ".join(f"{toml_str(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{toml_str(k)} = {toml_value(v)}\n" for k, v in doc.items())


@contextmanager
def plan_file(content: str | bytes) -> Iterator[Path]:
    # A file per example: hypothesis reruns the body, a function-scoped tmp_path would not.
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "plan.toml"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        yield path


def load_or_error(path: Path) -> Plan | None:
    """The plan, checked to be usable, or None after checking the PlanError names ``path``
    on one line."""
    try:
        plan = load(path, known_checks)
    except PlanError as e:
        assert str(e).startswith(f"{path}: ") and len(str(e).splitlines()) == 1
        return None
    assert_usable(plan)
    return plan


def assert_usable(plan: Plan) -> None:
    """What the grader assumes of a loaded plan."""
    assert isinstance(plan.name, str) and plan.visibility in VISIBILITIES
    assert all(type(v) is int for v in plan.seeds.values())
    for check_id, settings_ in plan.checks.items():
        assert check_id in KNOWN
        defaults = {"weight": 1.0, "visibility": "visible", **KNOWN[check_id]}
        assert settings_.keys() == defaults.keys()
        for key, value in settings_.items():
            if isinstance(defaults[key], float | int) and not isinstance(defaults[key], bool):
                assert type(value) in (int, float) and math.isfinite(value)
            else:
                assert type(value) is type(defaults[key])
            if isinstance(value, list):
                assert all(isinstance(item, str) for item in value)
        assert settings_["weight"] >= 0 and settings_["visibility"] in TEST_VISIBILITIES
    for limits in plan.limits.values():
        assert type(limits.cpu_s) is int and type(limits.memory_bytes) is int
        assert 0 < limits.wall_s < math.inf and limits.cpu_s > 0 and limits.memory_bytes > 0
        assert limits.cpu_s < 2**63 and limits.memory_bytes < 2**63


# --- valid plans -----------------------------------------------------------------------------

finite = st.floats(-1e9, 1e9, allow_nan=False)


def setting_values(default: Any) -> st.SearchStrategy[Any]:
    if isinstance(default, bool):  # a switch such as ``strict``
        return st.booleans()
    if isinstance(default, float):
        return finite | st.integers(-(10**6), 10**6)
    if isinstance(default, int):
        return st.integers(-(10**6), 10**6)
    if isinstance(default, list):
        return st.lists(st.text(max_size=8), max_size=3)
    return st.text(max_size=12)


@st.composite
def check_settings(draw: st.DrawFn, check_id: str) -> dict[str, Any]:
    defaults = KNOWN[check_id]
    keys = draw(st.lists(st.sampled_from(sorted(defaults)), unique=True)) if defaults else []
    chosen = {key: draw(setting_values(defaults[key])) for key in keys}
    if draw(st.booleans()):
        chosen["weight"] = draw(st.floats(0, 100) | st.integers(0, 100))
    if draw(st.booleans()):
        chosen["visibility"] = draw(st.sampled_from(TEST_VISIBILITIES))
    return chosen


limit_values = st.fixed_dictionaries({}, optional={
    "wall_s": st.floats(0.001, 1e6) | st.integers(1, 10**6),
    "cpu_s": st.integers(1, 10**6) | st.floats(1, 1e6),
    "memory_mb": st.integers(1, 10**6),
})


@st.composite
def valid_plans(draw: st.DrawFn) -> dict[str, Any]:
    checks = draw(st.lists(st.sampled_from(CHECK_IDS), unique=True, max_size=5))
    return {
        "plan": {"name": draw(st.text(max_size=20)),
                 "visibility": draw(st.sampled_from(VISIBILITIES))},
        "seeds": draw(st.dictionaries(st.text(max_size=8), INT64, max_size=4)),
        "checks": {check_id: draw(check_settings(check_id)) for check_id in checks},
        "limits": {**draw(limit_values),
                   **draw(st.dictionaries(st.sampled_from(["task1", "task3", "api"]),
                                          limit_values, max_size=2))},
    }


def expected_limits(table: dict[str, Any], base: Limits) -> Limits:
    fields = {key: LIMIT_KEYS[key](table[key]) for key in ("wall_s", "cpu_s") if key in table}
    if "memory_mb" in table:
        fields["memory_bytes"] = table["memory_mb"] << 20
    return Limits(**{**base.__dict__, **fields})


@SETTINGS
@given(doc=valid_plans())
def test_valid_plans_load_with_the_values_given(doc: dict[str, Any]) -> None:
    with plan_file(toml_document(doc)) as path:
        plan = load(path, known_checks)
    assert_usable(plan)
    assert (plan.name, plan.visibility) == (doc["plan"]["name"], doc["plan"]["visibility"])
    assert plan.seeds == doc["seeds"] and list(plan.checks) == list(doc["checks"])
    default_visibility = "visible" if plan.visibility == "public" else "after_published"
    for check_id, given_settings in doc["checks"].items():
        assert plan.checks[check_id] == {"weight": 1.0, "visibility": default_visibility,
                                         **KNOWN[check_id], **given_settings}
    base = expected_limits(doc["limits"], Limits())
    assert plan.limits["*"] == base
    for task, sub in doc["limits"].items():
        if isinstance(sub, dict):
            assert plan.limits_for(task) == expected_limits(sub, base)


# --- any other document ----------------------------------------------------------------------

toml_values = st.recursive(
    st.booleans() | INT64 | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def plans_with_wrong_types(draw: st.DrawFn) -> dict[str, Any]:
    """The real tables and keys, with values of any type (or missing)."""
    check_id = draw(st.sampled_from(CHECK_IDS))
    setting_keys = ["weight", "visibility", *KNOWN[check_id]]
    # check_modules: never a list of plain names, which could import a file that happens
    # to exist; names with NUL or too long for the file system must be refused cleanly.
    modules = toml_values.filter(lambda v: not isinstance(v, list)) | st.lists(
        st.sampled_from(["a\0b.py", "x" * 5000 + ".py", "no/such/dir.py"]) | INT64
        | st.lists(INT64, max_size=2), min_size=1, max_size=2)
    optional = {
        "plan": st.fixed_dictionaries({}, optional={
            "name": toml_values, "visibility": toml_values | st.sampled_from(VISIBILITIES),
            "check_modules": modules}) | toml_values,
        "seeds": st.dictionaries(st.text(max_size=6), toml_values, max_size=3) | toml_values,
        "checks": st.fixed_dictionaries({}, optional={check_id: st.dictionaries(
            st.sampled_from(setting_keys), toml_values, max_size=3) | toml_values})
        | toml_values,
        "limits": st.dictionaries(st.sampled_from([*LIMIT_KEYS, "task1", "wall"]),
                                  toml_values, max_size=3) | toml_values,
    }
    return draw(st.fixed_dictionaries({}, optional=optional))


@SETTINGS
@given(doc=plans_with_wrong_types())
def test_real_keys_with_wrong_types_load_or_raise_plan_error(doc: dict[str, Any]) -> None:
    with plan_file(toml_document(doc)) as path:
        load_or_error(path)


@SETTINGS
@given(doc=st.dictionaries(st.text(max_size=8), toml_values, max_size=4))
def test_arbitrary_toml_loads_or_raises_plan_error(doc: dict[str, Any]) -> None:
    with plan_file(toml_document(doc)) as path:
        load_or_error(path)


@SETTINGS
@given(content=st.binary(max_size=100) | st.text(max_size=100))
def test_arbitrary_files_load_or_raise_plan_error(content: bytes | str) -> None:
    with plan_file(content) as path:
        load_or_error(path)


@SETTINGS
@given(check_id=st.sampled_from(CHECK_IDS), data=st.data())
def test_wrong_setting_types_name_the_setting(check_id: str, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(["weight", *KNOWN[check_id]]), label="key")
    default = {"weight": 1.0, **KNOWN[check_id]}[key]
    wrong = data.draw(toml_values.filter(lambda v: not _fits(v, default)), label="value")
    doc = {"plan": {}, "seeds": {}, "checks": {check_id: {key: wrong}}}
    with plan_file(toml_document(doc)) as path:
        assert load_or_error(path) is None


def _fits(value: Any, default: Any) -> bool:
    """Whether ``value`` is a valid setting where ``default`` is the default."""
    if isinstance(default, float | int) and not isinstance(default, bool):
        return type(value) in (int, float) and math.isfinite(value)
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return type(value) is type(default)
