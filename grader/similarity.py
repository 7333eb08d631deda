"""Similarity across a class: winnowed code fingerprints and character n-grams of reports.

Code follows Schleimer, Wilkerson & Aiken, "Winnowing: local algorithms for document
fingerprinting" (SIGMOD 2003). Each ``.py`` file and each code cell of each ``.ipynb`` is
tokenised with :mod:`tokenize`; comments and layout are dropped, identifiers become ``V``
and literals a placeholder of their type, so renaming, re-commenting and reformatting do
not hide a copy. Every run of ``k`` tokens is hashed (Karp–Rabin, rolled in O(1) a step)
and winnowing keeps the rightmost smallest hash of every window of ``w`` hashes: any
stretch of ``w + k − 1`` tokens that two submissions share yields a shared fingerprint.
Because ``k ≥ w`` by default, the k-grams picked inside a copied stretch overlap, so their
source lines merge into one contiguous region.

Files are read through :mod:`grader.safe_files` (no link followed, no pipe opened, bounded
walks). Compiled files (``.pyc`` …) are not compared: a module handed in only compiled is
listed in ``skipped``, and the student's own report flags it (``code.banned_imports``
"unverified", see :mod:`grader.submission`), since it was not run either.

Reports are compared as sets of character n-grams after NFKC normalisation with spaces and
punctuation removed (Japanese has no word boundaries); n-grams of the quoted course text
are removed first, so quoting the same task statement is not a match.

A pair's score is the containment ``|A ∩ B| / min(|A|, |B|)`` (a copy padded with other
material still scores high); the Jaccard index ``|A ∩ B| / |A ∪ B|`` is reported beside it.

Complexity, for S submissions of F fingerprints (or n-grams) each: building the inverted
index fingerprint → holders is O(S·F); scoring increments one counter per pair per distinct
holder group, at most Σ_f C(h_f, 2) where h_f is the number of submissions holding f
(fingerprints with the same holders, e.g. one copied file, are counted as one group).
Pairs that share nothing cost nothing, so a class of 300 (44,850 pairs) costs what it
really shares, not S². The worst case is a fingerprint nearly everyone holds (h_f ≈ S);
``max_holders`` treats such fingerprints as boilerplate, which bounds the counting by
S·F·max_holders/2. Only flagged pairs get regions or passages, O(F) each. Reading costs
O(T·w) for T tokens.
"""

from __future__ import annotations

import io
import keyword
import tokenize
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import combinations, product
from pathlib import Path, PurePosixPath
from typing import Any

from grader.notebook import cell_source, parse_cells
from grader.safe_files import UnsafeFile, read_bytes, walk
from grader.submission import COMPILED_REASON, SKIPPED_DIRS, compiled_only

CODE_SUFFIXES = (".py", ".ipynb")
MAX_FILE_BYTES = 1 << 20
_LAYOUT = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                     tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER})
_MODULUS = (1 << 61) - 1
_BASE = 1_000_003
_PASSAGE_CHARS = 80


@dataclass(frozen=True)
class Region:
    """Lines of one file of ``a`` that match lines of one file of ``b`` (both inclusive)."""

    file_a: str
    lines_a: tuple[int, int]
    file_b: str
    lines_b: tuple[int, int]

    def __str__(self) -> str:
        """``file_a:first-last ~ file_b:first-last``."""
        (a0, a1), (b0, b1) = self.lines_a, self.lines_b
        return f"{self.file_a}:{a0}-{a1} ~ {self.file_b}:{b0}-{b1}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, line ranges as lists."""
        return {"file_a": self.file_a, "lines_a": list(self.lines_a),
                "file_b": self.file_b, "lines_b": list(self.lines_b)}


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions (``a`` < ``b``) that are alike, with the evidence.

    ``regions`` locate shared code; ``passages`` quote shared report text (normalised).
    """

    a: str
    b: str
    score: float
    jaccard: float
    method: str
    regions: tuple[Region, ...] = ()
    passages: tuple[str, ...] = ()
    shared: int = 0

    @property
    def detail(self) -> str:
        """One line of evidence for the class report's table."""
        unit = "fingerprints" if self.method == "code" else "n-grams"
        evidence = [str(r) for r in self.regions] or [f"「{p}」" for p in self.passages]
        return "; ".join([*evidence, f"{self.shared} shared {unit}"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``a``, ``b``, ``score``, ``method``, ``detail`` as the class report reads."""
        return {"a": self.a, "b": self.b, "score": round(self.score, 4),
                "jaccard": round(self.jaccard, 4), "method": self.method,
                "detail": self.detail, "shared": self.shared,
                "regions": [r.to_dict() for r in self.regions], "passages": list(self.passages)}


@dataclass(frozen=True)
class Span:
    """Where one fingerprint's k tokens stand: a unit (file or notebook cell) and its lines."""

    unit: str
    first: int
    last: int


@dataclass(frozen=True)
class CodeFingerprints:
    """The winnowed fingerprints of one submission.

    ``spans`` maps each fingerprint to every place it occurs; ``units`` are the files and
    notebook cells read (a cell is named ``task1.ipynb#cell3``); ``skipped`` says why a
    file or cell was left out.
    """

    name: str
    k: int
    w: int
    spans: Mapping[int, tuple[Span, ...]]
    units: tuple[str, ...]
    skipped: Mapping[str, str]


# --- reading code -------------------------------------------------------------------------


def _blank_magics(source: str) -> str:
    """Blank IPython magics and shell lines, keeping line numbers, so the cell tokenises."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _code_files(root: Path) -> tuple[Path, list[PurePosixPath], dict[str, str]]:
    """(the folder, its ``.py`` and ``.ipynb`` files relative to it, sorted, and why code
    files were left out: links, pipes, compiled files without source).

    Walked through :mod:`grader.safe_files`; ``root`` may also be one file (a skeleton).
    ``root`` itself is the caller's (a folder discovery staged, the instructor's skeleton)
    and is followed if it is a link; nothing below it is.
    """
    root = root.resolve()
    if root.is_file():
        return root.parent, [PurePosixPath(root.name)], {}
    tree = walk(root, skip_dirs=SKIPPED_DIRS - {"__pycache__"})
    files = [rel for rel in tree.files
             if rel.suffix in CODE_SUFFIXES and "__pycache__" not in rel.parts]
    skipped = {rel: reason for rel, reason in tree.skipped
               if PurePosixPath(rel).suffix in CODE_SUFFIXES}
    skipped |= {rel.as_posix(): COMPILED_REASON for rel in compiled_only(tree.files)}
    return root, files, skipped


def _file_units(root: Path, rel: PurePosixPath, label: str) -> list[tuple[str, str]]:
    """(unit name, source) of a script, or of each code cell of a notebook.

    Raises ValueError with the reason for a file that cannot be read.
    """
    try:
        data = read_bytes(root, rel, MAX_FILE_BYTES)
    except UnsafeFile as e:
        if e.kind == "too_large":
            raise ValueError(f"larger than {MAX_FILE_BYTES >> 20} MiB") from None
        raise ValueError(str(e).removeprefix(f"{rel}: ")) from None
    if rel.suffix == ".ipynb":
        return [(f"{label}#cell{number}", _blank_magics(cell_source(cell)))
                for number, cell in enumerate(parse_cells(data), start=1)
                if cell.get("cell_type") == "code"]
    try:
        return [(label, data.decode("utf-8"))]
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text (byte {e.start})") from None


Token = tuple[str, int, int]  # normalised text, first line, last line


def _number_kind(literal: str) -> str:
    """``INT``, ``FLOAT`` or ``COMPLEX``: the placeholder of a number literal."""
    lower = literal.lower()
    if lower.endswith("j"):
        return "COMPLEX"
    if lower.startswith(("0x", "0o", "0b")) or not any(c in lower for c in ".e"):
        return "INT"
    return "FLOAT"


def _normalise(tok: tokenize.TokenInfo) -> str:
    """What a token compares as: keywords and operators themselves, the rest a placeholder."""
    if tok.type == tokenize.NAME:
        return tok.string if keyword.iskeyword(tok.string) else "V"
    if tok.type == tokenize.NUMBER:
        return _number_kind(tok.string)
    if tok.type == tokenize.OP:
        return tok.string
    if tok.type == tokenize.ERRORTOKEN:
        # Python 3.11 reports a stray character (``$``, an unclosed quote) this way
        # instead of raising; such a file is not Python, so treat it as untokenisable.
        raise tokenize.TokenError(f"unexpected character {tok.string!r}", tok.start)
    return tokenize.tok_name[tok.type]  # STRING, and f-string parts on Python ≥ 3.12


def normalised_tokens(source: str) -> list[Token]:
    """(normalised token, first line, last line) for every token that carries meaning.

    Raises tokenize.TokenError or SyntaxError (e.g. IndentationError) when ``source``
    does not tokenise.
    """
    return [
        (_normalise(tok), tok.start[0], tok.end[0])
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type not in _LAYOUT
        and not (tok.type == tokenize.ERRORTOKEN and tok.string.isspace())
    ]


def _token_error(e: Exception) -> str:
    """A one-line reason for a tokenize failure, with its line."""
    if isinstance(e, SyntaxError):
        return f"does not tokenise: {e.msg} (line {e.lineno})"
    message, (line, _col) = e.args
    return f"does not tokenise: {message} (line {line})"


def _token_streams(root: Path) -> tuple[list[tuple[str, list[Token]]], dict[str, str]]:
    """The tokens of every unit under ``root`` and why others were skipped."""
    streams: list[tuple[str, list[Token]]] = []
    folder, files, skipped = _code_files(root)
    for rel in files:
        label = rel.as_posix()
        try:
            units = _file_units(folder, rel, label)
        except ValueError as e:
            skipped[label] = str(e)
            continue
        for unit, source in units:
            try:
                streams.append((unit, normalised_tokens(source)))
            except (tokenize.TokenError, SyntaxError) as e:
                skipped[unit] = _token_error(e)
    return streams, skipped


# --- fingerprints -------------------------------------------------------------------------


def kgram_hashes(tokens: Sequence[str], k: int) -> list[int]:
    """Karp–Rabin hash of every run of ``k`` tokens, rolled forward in O(1) a step.

    Tokens are hashed with CRC-32 rather than ``hash()`` so that fingerprints made in
    different processes (batch workers) agree.
    """
    ids = [zlib.crc32(t.encode()) for t in tokens]
    if len(ids) < k:
        return []
    top = pow(_BASE, k - 1, _MODULUS)
    h = 0
    for t in ids[:k]:
        h = (h * _BASE + t) % _MODULUS
    hashes = [h]
    for old, new in zip(ids, ids[k:], strict=False):
        h = ((h - old * top) * _BASE + new) % _MODULUS
        hashes.append(h)
    return hashes


def winnow(hashes: Sequence[int], w: int) -> list[int]:
    """Positions picked by winnowing: the rightmost minimum of every window of ``w`` hashes.

    A sequence shorter than one window keeps its minimum, so short files still count.
    """
    span = min(w, len(hashes))
    picked: list[int] = []
    for start in range(len(hashes) - span + 1 if hashes else 0):
        window = hashes[start:start + span]
        pos = start + span - 1 - window[::-1].index(min(window))
        if not picked or picked[-1] != pos:  # rightmost minima never move backwards
            picked.append(pos)
    return picked


def code_fingerprints(submission_dir: Path, k: int = 12, w: int = 8) -> CodeFingerprints:
    """Winnowed fingerprints of every ``.py`` file and notebook code cell under a folder.

    A file or cell that cannot be read or tokenised is left out, with its reason in
    ``skipped``; this never raises for bad student files.
    """
    if k < 1 or w < 1:
        raise ValueError(f"k and w must be positive, got k={k}, w={w}")
    root = Path(submission_dir)
    streams, skipped = _token_streams(root)
    spans: defaultdict[int, list[Span]] = defaultdict(list)
    for unit, tokens in streams:
        hashes = kgram_hashes([t for t, _, _ in tokens], k)
        for pos in winnow(hashes, w):
            spans[hashes[pos]].append(Span(unit, tokens[pos][1], tokens[pos + k - 1][2]))
    return CodeFingerprints(name=root.name, k=k, w=w,
                            spans={h: tuple(s) for h, s in spans.items()},
                            units=tuple(unit for unit, _ in streams), skipped=skipped)


def skeleton_hashes(skeleton: Path, k: int = 12) -> frozenset[int]:
    """Every k-gram hash (not only the winnowed ones) of the course-provided code.

    Taking all of them removes a skeleton fragment from a submission even where the
    submission's own context made winnowing pick a different k-gram of it.
    """
    streams, _ = _token_streams(Path(skeleton))
    return frozenset(h for _, tokens in streams for h in kgram_hashes([t for t, _, _ in tokens], k))


# --- pairing, shared by code and text --------------------------------------------------------


def _without_common(sets: Mapping[str, AbstractSet[Any]],
                    max_holders: int | None) -> dict[str, AbstractSet[Any]]:
    """Drop features held by more than ``max_holders`` submissions: class-wide boilerplate."""
    if max_holders is None:
        return dict(sets)
    holders = Counter(f for features in sets.values() for f in features)
    common = {f for f, n in holders.items() if n > max_holders}
    return {name: features - common for name, features in sets.items()}


def _shared_counts(sets: Mapping[str, AbstractSet[Any]]) -> Counter[tuple[str, str]]:
    """|A ∩ B| for every pair that shares anything, through an inverted index."""
    index: defaultdict[Any, list[str]] = defaultdict(list)
    for name in sorted(sets):
        for feature in sets[name]:
            index[feature].append(name)
    # Features held by the same submissions (a copied passage, a shared file) add to the
    # same pairs: count each group of holders once, with its size as the weight.
    groups = Counter(tuple(holders) for holders in index.values() if len(holders) > 1)
    counts: Counter[tuple[str, str]] = Counter()
    for holders, weight in groups.items():
        for pair in combinations(holders, 2):  # holders are sorted, so a < b
            counts[pair] += weight
    return counts


def _flagged(sets: Mapping[str, AbstractSet[Any]], threshold: float,
             min_shared: int) -> Iterator[tuple[str, str, int, float, float]]:
    """(a, b, shared, containment, jaccard) of the pairs at or above ``threshold``."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    for (a, b), shared in _shared_counts(sets).items():
        size_a, size_b = len(sets[a]), len(sets[b])
        score = shared / min(size_a, size_b)
        if shared >= min_shared and score >= threshold:
            yield a, b, shared, score, shared / (size_a + size_b - shared)


def _ranked(pairs: Iterable[SimilarPair]) -> list[SimilarPair]:
    """Highest score first, then by names, so the output is deterministic."""
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


# --- code pairs ------------------------------------------------------------------------------


def _merged(spans: Iterable[Span]) -> dict[Span, Span]:
    """Each span → the range of its unit that it merges into with overlapping or adjacent spans."""
    into: dict[Span, Span] = {}
    for unit_spans in _by_unit(spans).values():
        group: list[Span] = []
        end = 0
        for span in sorted(unit_spans, key=lambda s: (s.first, s.last)):
            if group and span.first > end + 1:
                into.update(_range_of(group))
                group = []
            end = max(end, span.last) if group else span.last
            group.append(span)
        into.update(_range_of(group))
    return into


def _by_unit(spans: Iterable[Span]) -> dict[str, set[Span]]:
    """Spans grouped by the file or cell they stand in."""
    units: defaultdict[str, set[Span]] = defaultdict(set)
    for span in spans:
        units[span.unit].add(span)
    return units


def _range_of(group: list[Span]) -> dict[Span, Span]:
    """Each span of an overlapping group → the one range that covers them all."""
    whole = Span(group[0].unit, min(s.first for s in group), max(s.last for s in group))
    return dict.fromkeys(group, whole)


def code_regions(a: CodeFingerprints, b: CodeFingerprints, shared: Iterable[int],
                 limit: int = 5) -> tuple[Region, ...]:
    """The matching line ranges of two submissions, most fingerprints first, at most ``limit``.

    Each shared fingerprint links its places in ``a`` to its places in ``b``; the places
    merge into ranges per file, and a region is a pair of ranges that fingerprints link.
    A pair of ranges that are both already shown is left out: it comes from a fragment
    that occurs in several places (a common helper), not from another copied block.
    """
    links = [pair for h in shared for pair in product(a.spans[h], b.spans[h])]
    into_a = _merged(s for s, _ in links)
    into_b = _merged(t for _, t in links)
    weights = Counter((into_a[s], into_b[t]) for s, t in links)
    ranked = sorted(weights.items(), key=lambda item: (
        -item[1], item[0][0].unit, item[0][0].first, item[0][1].unit, item[0][1].first))
    chosen: list[tuple[Span, Span]] = []
    for (ra, rb), _ in ranked:
        if len(chosen) < limit and not ({ra, rb} <= {r for pair in chosen for r in pair}):
            chosen.append((ra, rb))
    return tuple(Region(ra.unit, (ra.first, ra.last), rb.unit, (rb.first, rb.last))
                 for ra, rb in chosen)


def match_code(prints: Mapping[str, CodeFingerprints], skeleton: AbstractSet[int] = frozenset(),
               threshold: float = 0.5, min_shared: int = 10, max_holders: int | None = None,
               max_regions: int = 5) -> list[SimilarPair]:
    """Pairs of submissions whose fingerprints overlap at or above ``threshold``.

    ``skeleton`` fingerprints (course-provided code) are removed first; so are those held
    by more than ``max_holders`` submissions when it is given. A pair must share at least
    ``min_shared`` fingerprints, so that a nearly empty submission is not "contained" in
    every other one. Sorted by score (highest first), then names.
    """
    if len({(fp.k, fp.w) for fp in prints.values()}) > 1:
        raise ValueError("fingerprints made with different k or w cannot be compared")
    sets = _without_common({name: fp.spans.keys() - skeleton for name, fp in prints.items()},
                           max_holders)
    return _ranked(
        SimilarPair(a, b, score, jaccard, "code", shared=shared,
                    regions=code_regions(prints[a], prints[b], sets[a] & sets[b], max_regions))
        for a, b, shared, score, jaccard in _flagged(sets, threshold, min_shared)
    )


def similar_code(submissions: Mapping[str, Path], skeleton: Path | None = None,
                 threshold: float = 0.5, k: int = 12, w: int = 8, min_shared: int = 10,
                 max_holders: int | None = None) -> list[SimilarPair]:
    """Read every submission (name → folder) and return its similar pairs.

    ``skeleton`` is a file or folder of course-provided code (e.g. the reference
    submission) whose fragments do not count. Use :func:`code_fingerprints` and
    :func:`match_code` directly to also see which files were skipped.
    """
    prints = {name: code_fingerprints(path, k, w) for name, path in submissions.items()}
    ignored = skeleton_hashes(skeleton, k) if skeleton is not None else frozenset()
    return match_code(prints, ignored, threshold, min_shared, max_holders)


# --- report text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """A report as compared: NFKC text, its letters and digits (casefolded) and their places."""

    shown: str
    chars: tuple[str, ...]
    where: tuple[int, ...]

    def grams(self, n: int) -> list[str]:
        """Every run of ``n`` kept characters, in order (repeats included)."""
        return ["".join(self.chars[i:i + n]) for i in range(len(self.chars) - n + 1)]


def _text(raw: str) -> _Text:
    """Normalise a report for comparison (see :class:`_Text`)."""
    shown = unicodedata.normalize("NFKC", raw)
    kept = [(i, c.casefold()) for i, c in enumerate(shown)
            if unicodedata.category(c)[0] in "LN"]  # letters and digits; no spaces or punctuation
    return _Text(shown, tuple(c for _, c in kept), tuple(i for i, _ in kept))


def _passages(text: _Text, grams: Sequence[str], shared: AbstractSet[str], n: int,
              limit: int) -> tuple[str, ...]:
    """The longest stretches of ``text`` made of shared n-grams, as written (NFKC), trimmed."""
    runs: list[tuple[int, int]] = []
    for i, gram in enumerate(grams):
        if gram not in shared:
            continue
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    longest = sorted(runs, key=lambda r: (r[0] - r[1], r[0]))[:limit]
    return tuple(_trimmed(text.shown[text.where[s]:text.where[e + n - 1] + 1]) for s, e in longest)


def _trimmed(passage: str) -> str:
    """A passage on one line, cut to at most ``_PASSAGE_CHARS`` characters."""
    flat = " ".join(passage.split())
    return flat if len(flat) <= _PASSAGE_CHARS else flat[:_PASSAGE_CHARS - 1] + "…"


def report_similarity(texts: Mapping[str, str], quoted: Iterable[str] = (), n: int = 5,
                      threshold: float = 0.5, min_shared: int = 30,
                      max_holders: int | None = None, passages: int = 3) -> list[SimilarPair]:
    """Pairs of written reports (name → text) that share character n-grams.

    Text is NFKC-normalised and casefolded, with whitespace and punctuation removed;
    n-grams that occur in any ``quoted`` text (the course text, task statements) are
    removed before comparing. ``min_shared`` and ``max_holders`` as in :func:`match_code`.
    Each pair quotes up to ``passages`` of the longest shared stretches of ``a``.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    reports = {name: _text(raw) for name, raw in texts.items()}
    grams = {name: t.grams(n) for name, t in reports.items()}
    course = {gram for raw in quoted for gram in _text(raw).grams(n)}
    sets = _without_common({name: set(g) - course for name, g in grams.items()}, max_holders)
    return _ranked(
        SimilarPair(a, b, score, jaccard, "text", shared=shared,
                    passages=_passages(reports[a], grams[a], sets[a] & sets[b], n, passages))
        for a, b, shared, score, jaccard in _flagged(sets, threshold, min_shared)
    )
