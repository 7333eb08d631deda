"""The written-report rubric: per section a summary long enough, results, and a discussion.

A report is ``report.md``, a notebook (markdown cells are the text, code cell outputs the
results) or ``report.html``. Each format is read into the same flat list of blocks —
headings, text lines and results (figures, tables, code blocks, outputs) — and a section
is what stands under a heading that matches one of its title patterns, up to the next
heading of the same or a higher level, or the next heading of another section.

Characters are counted after NFKC normalisation (full-width letters and digits become
half-width, half-width katakana full-width) without whitespace, Markdown markup, code,
block quotes and lines copied from the course text; every prose line of the section
counts, the discussion included.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any

from grader import safe_files
from grader.notebook import MAX_NOTEBOOK_BYTES, cell_source, notebook_cells

DEFAULT_RUBRIC = Path(__file__).resolve().parent / "plans" / "rubric.toml"
REPORT_STEMS = ("report", "レポート")
REPORT_SUFFIXES = (".md", ".markdown", ".ipynb", ".html", ".htm")
# An HTML export with its figures inlined can be large; prose never is.
MAX_REPORT_BYTES = MAX_NOTEBOOK_BYTES
_LABEL_LEVEL = 7  # a bare "考察" line opens a discussion like a heading deeper than any real one

# The patterns run on student text: each is linear in the length of a line. A class that
# could scan past the next start of a match (``[^)]*`` after ``[a](``) makes a long line
# of repeats take quadratic time, so the classes stop at the next bracket.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*))?$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_TARGET = r"\((?:[^()]|\([^()]*\))*\)"  # a link target, one level of parentheses inside
_IMAGE = re.compile(r"!\[[^\[\]]*\]" + _TARGET + r"|<img\b[^<>]*>", re.IGNORECASE)
_LINK = re.compile(r"\[([^\[\]]*)\]" + _TARGET)
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MARKUP = re.compile(r"<[^<>]+>|\*\*|__|~~|`")


class RubricError(ValueError):
    """A report or rubric file that cannot be read; the message names the file.

    ``key`` and ``params`` word it for students through the message catalogue.
    """

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason
        self.key = "rubric.unreadable"
        self.params = {"file": self.path.name, "reason": reason}

    def __reduce__(self) -> tuple[type, tuple[Path, str]]:
        # Batch workers send exceptions between processes; the default would call
        # RubricError(message) and fail for want of ``reason``.
        return type(self), (self.path, self.reason)


# --- the rubric ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One required section of the report."""

    id: str
    title: str
    patterns: tuple[re.Pattern[str], ...]
    min_summary_chars: int = 100
    results: bool = True
    discussion: bool = True

    def matches(self, heading: str) -> bool:
        """Whether a (normalised) heading names this section."""
        return any(p.search(heading) for p in self.patterns)


@dataclass(frozen=True)
class Rubric:
    """Required sections, what marks a discussion, and course text that does not count."""

    sections: tuple[Section, ...]
    discussion_pattern: re.Pattern[str]
    quoted: tuple[str, ...] = ()


_TOP_KEYS = {"min_summary_chars", "discussion_pattern", "quoted_files", "sections"}
_SECTION_KEYS = {"id", "title", "patterns", "min_summary_chars", "results", "discussion"}


def _regex(pattern: Any, where: Path) -> re.Pattern[str]:
    """Compile a rubric pattern (case-insensitive); RubricError naming the file if bad."""
    try:
        return re.compile(str(pattern), re.IGNORECASE)
    except re.error as e:
        raise RubricError(where, f"bad pattern {pattern!r}: {e}") from None


def _unknown_keys(table: Mapping[str, Any], allowed: set[str], where: Path) -> None:
    """Reject misspelt keys, which would otherwise be silently ignored."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RubricError(where, f"unknown key(s) {', '.join(unknown)}")


def _section(table: Mapping[str, Any], default_chars: int, where: Path) -> Section:
    """One ``[[sections]]`` table as a :class:`Section`."""
    _unknown_keys(table, _SECTION_KEYS, where)
    if "id" not in table or not table.get("patterns"):
        raise RubricError(where, f"a section needs an id and patterns: {dict(table)}")
    return Section(
        id=str(table["id"]), title=str(table.get("title", table["id"])),
        patterns=tuple(_regex(p, where) for p in table["patterns"]),
        min_summary_chars=int(table.get("min_summary_chars", default_chars)),
        results=bool(table.get("results", True)), discussion=bool(table.get("discussion", True)),
    )


def load_rubric(path: Path | None = None) -> Rubric:
    """Read a rubric TOML (the shipped ``grader/plans/rubric.toml`` by default).

    ``quoted_files`` are read relative to the TOML file. Raises RubricError naming the
    file for unreadable TOML, unknown keys, bad patterns or no sections.
    """
    source = Path(path) if path is not None else DEFAULT_RUBRIC
    try:
        data = tomllib.loads(_instructor_text(source))
    except tomllib.TOMLDecodeError as e:
        raise RubricError(source, f"not valid TOML ({e})") from None
    _unknown_keys(data, _TOP_KEYS, source)
    chars = int(data.get("min_summary_chars", 100))
    sections = tuple(_section(table, chars, source) for table in data.get("sections", []))
    if not sections:
        raise RubricError(source, "no [[sections]]")
    quoted = tuple(_squeezed(_instructor_text(source.parent / name))
                   for name in data.get("quoted_files", []))
    return Rubric(sections, _regex(data.get("discussion_pattern", "考察|discussion"), source),
                  quoted)


# --- reading reports into blocks ------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A heading (with its level), a line or paragraph of prose, or a result."""

    kind: str  # "heading" | "text" | "result"
    text: str = ""
    level: int = 0


RESULT = Block("result")


def _block(kind: str, text: str, level: int = 0) -> Block:
    """A heading or text block, NFKC-normalised so that patterns see half-width forms."""
    return Block(kind, unicodedata.normalize("NFKC", text), level)


def read_text(path: Path) -> str:
    """A UTF-8 report's text (a byte order mark is dropped); RubricError names the file.

    Read through :mod:`grader.safe_files`: a link is not followed, a pipe not opened, at
    most :data:`MAX_REPORT_BYTES` read.
    """
    try:
        return safe_files.read_path(path, MAX_REPORT_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RubricError(path, f"not UTF-8 text (byte {e.start})") from None
    except safe_files.UnsafeFile as e:
        raise RubricError(path, str(e).removeprefix(f"{Path(path).name}: ")) from None


def _instructor_text(path: Path) -> str:
    """A rubric or quoted text: the instructor's own file, read as it is named."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise RubricError(path, f"not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise RubricError(path, e.strerror or type(e).__name__) from None


def _squeezed(text: str) -> str:
    """NFKC without whitespace: the form characters are counted in."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _prose(line: str) -> str:
    """A Markdown line without its markup: images, link targets, list markers, emphasis."""
    line = _LINK.sub(r"\1", _IMAGE.sub("", line))
    return _MARKUP.sub("", _LIST_MARKER.sub("", line)).strip()


def _heading_text(text: str) -> str:
    """A heading's text without the closing ``#`` sequence (``## Title ##``)."""
    text = text.rstrip()
    unclosed = text.rstrip("#")
    return unclosed.rstrip() if unclosed[-1:].isspace() else text


def _strip_comments(markdown: str) -> str:
    """``markdown`` without ``<!-- … -->`` comments (str.find: linear, unlike a lazy regex)."""
    parts, pos = [], 0
    while (start := markdown.find("<!--", pos)) != -1:
        end = markdown.find("-->", start + 4)
        if end == -1:
            break
        parts.append(markdown[pos:start])
        pos = end + 3
    parts.append(markdown[pos:])
    return "".join(parts)


def _markdown_line(line: str) -> Block | None:
    """The block of one Markdown line outside code fences, or None for nothing to count."""
    heading = _HEADING.match(line)
    if heading:
        text = _heading_text(heading.group(2) or "")
        return _block("heading", text, len(heading.group(1)))
    stripped = line.strip()
    if not stripped or stripped.startswith(">") or _RULE.match(line):
        return None  # block quotes are quoted material, not the student's summary
    if stripped.startswith("|") or _IMAGE.search(line):
        return RESULT
    return _block("text", _prose(line))


def markdown_blocks(markdown: str) -> list[Block]:
    """The blocks of a Markdown text; a fenced code block (pasted output) is a result.

    A line holding an image and prose yields only the result, as the caption is no summary.
    """
    blocks: list[Block] = []
    fence = ""
    for line in _strip_comments(markdown).splitlines():
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
            blocks.append(RESULT)
        else:
            block = _markdown_line(line)
            if block is not None:
                blocks.append(block)
    return blocks


def _output_blocks(cell: Mapping[str, Any]) -> list[Block]:
    """A result for each output a code cell kept, except error tracebacks."""
    outputs = cell.get("outputs")
    if not isinstance(outputs, list):  # the schema is not enforced on reading
        return []
    return [RESULT for out in outputs
            if isinstance(out, dict) and out.get("output_type") != "error"]


def notebook_blocks(path: Path) -> list[Block]:
    """Markdown cells as text, code cell outputs as results; RubricError for a bad notebook."""
    try:
        cells = notebook_cells(path)
    except ValueError as e:  # nbformat's reasons can run over many lines
        raise RubricError(path, str(e).splitlines()[0] if str(e) else "not a notebook") from None
    blocks: list[Block] = []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            blocks.extend(markdown_blocks(cell_source(cell)))
        elif cell.get("cell_type") == "code":
            blocks.extend(_output_blocks(cell))
    return blocks


class _HTMLBlocks(HTMLParser):
    """Collects blocks from HTML: h1–h6, paragraphs, and images, tables, ``<pre>`` as results."""

    HIDDEN = frozenset({"head", "script", "style", "template", "noscript", "blockquote"})
    RESULTS = frozenset({"table", "pre", "svg", "canvas", "video"})
    BREAKS = frozenset({"p", "div", "li", "br", "hr", "section", "article", "main", "body",
                        "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "details"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._words: list[str] = []
        self._heading = 0
        self._hidden = 0  # depth inside elements whose text is not prose

    def _flush(self) -> None:
        """End the paragraph or heading collected so far."""
        text = " ".join("".join(self._words).split())
        self._words = []
        if self._heading:
            self.blocks.append(_block("heading", text, self._heading))
        elif text:
            self.blocks.append(_block("text", text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN or tag in self.RESULTS:
            if tag in self.RESULTS and not self._hidden:
                self._flush()
                self.blocks.append(RESULT)
            self._hidden += 1
        elif tag == "img" and not self._hidden:
            self._flush()
            self.blocks.append(RESULT)
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = int(tag[1])
        elif tag in self.BREAKS and not self._heading:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN or tag in self.RESULTS:
            self._hidden = max(0, self._hidden - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._heading:
            self._flush()
            self._heading = 0
        elif tag in self.BREAKS and not self._heading:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._words.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(html: str) -> list[Block]:
    """The blocks of an HTML report (tags stripped with the standard library's parser)."""
    parser = _HTMLBlocks()
    parser.feed(html)
    parser.close()
    return parser.blocks


def report_blocks(path: Path) -> list[Block]:
    """The blocks of a report, by its suffix; RubricError for what cannot be read."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        return notebook_blocks(path)
    if suffix in (".html", ".htm"):
        return html_blocks(read_text(path))
    if suffix in (".md", ".markdown"):
        return markdown_blocks(read_text(path))
    raise RubricError(path, f"unsupported report format {suffix or '(no suffix)'}; "
                            "use report.md, report.html or a notebook")


def report_text(path: Path) -> str:
    """The prose of a report, a block a line (the input of ``report_similarity``)."""
    return "\n".join(b.text for b in report_blocks(path) if b.kind == "text")


def find_report(submission_dir: Path) -> Path | None:
    """The report in a submission folder: ``report.md``, ``report.ipynb``, ``report.html`` …

    Only the top level is searched, without following links (a linked report is not
    found); names are matched without regard to case, and Markdown is preferred to a
    notebook, a notebook to HTML (which is often an export).
    """
    root = Path(submission_dir)
    if not root.is_dir():
        return None
    ranked = sorted((REPORT_SUFFIXES.index(rel.suffix.lower()), rel.name)
                    for rel in safe_files.walk(root, max_depth=0).files if is_report_name(rel.name))
    return root / ranked[0][1] if ranked else None


def is_report_name(name: str) -> bool:
    """Whether a top-level file of this name is a written report (``Report.HTML`` …)."""
    path = PurePosixPath(name)
    return path.stem.lower() in REPORT_STEMS and path.suffix.lower() in REPORT_SUFFIXES


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricMessage:
    """A student-facing message: a catalogue key (``report_templates/i18n/rubric.toml``)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"key": self.key, "params": dict(self.params)}


@dataclass(frozen=True)
class SectionResult:
    """How one section of a report fares; ``messages`` says every problem, or that it passed."""

    id: str
    title: str
    found: bool
    summary_chars: int
    has_results: bool
    has_discussion: bool
    passed: bool
    messages: tuple[RubricMessage, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"id": self.id, "title": self.title, "found": self.found,
                "summary_chars": self.summary_chars, "has_results": self.has_results,
                "has_discussion": self.has_discussion, "passed": self.passed,
                "messages": [m.to_dict() for m in self.messages]}


@dataclass(frozen=True)
class RubricResult:
    """The rubric applied to one report; ``score`` is the fraction of sections passing."""

    path: Path
    sections: tuple[SectionResult, ...]

    @property
    def score(self) -> float:
        """The fraction of sections passing, 0–1."""
        return sum(s.passed for s in self.sections) / len(self.sections)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the score."""
        return {"path": str(self.path), "score": self.score,
                "sections": [s.to_dict() for s in self.sections]}


def section_blocks(blocks: Sequence[Block], sections: Sequence[Section]) -> dict[str, list[Block]]:
    """Section id → its blocks, its headings included; absent sections map to ``[]``.

    A section runs from a matching heading to the next heading that is not deeper or
    that belongs to another section; a heading naming two sections opens both.
    """
    found: dict[str, list[Block]] = {s.id: [] for s in sections}
    open_levels: dict[str, int] = {}
    for block in blocks:
        if block.kind == "heading":
            matched = {s.id for s in sections if s.matches(block.text)}
            open_levels = {sid: level for sid, level in open_levels.items()
                           if sid in matched or not (matched or level >= block.level)}
            for sid in matched:
                open_levels.setdefault(sid, block.level)
        for sid in open_levels:
            found[sid].append(block)
    return found


def _is_quoted(text: str, quoted: Iterable[str]) -> bool:
    """Whether ``text`` was copied from one of the ``quoted`` (squeezed) course texts."""
    squeezed = _squeezed(text)
    return any(squeezed in q for q in quoted)


def summary_chars(blocks: Iterable[Block], quoted: Sequence[str] = ()) -> int:
    """Characters of prose (NFKC, no whitespace), leaving out lines copied from ``quoted``."""
    return sum(len(_squeezed(b.text)) for b in blocks
               if b.kind == "text" and b.text and not _is_quoted(b.text, quoted))


def has_discussion(blocks: Iterable[Block], pattern: re.Pattern[str]) -> bool:
    """Prose under a heading matching ``pattern``, or a paragraph containing it.

    A line that is nothing but the keyword ("考察:") is a label: the prose after it, up
    to the next heading, is the discussion.
    """
    depth: int | None = None  # level of the discussion heading we are under
    for block in blocks:
        if block.kind == "heading":
            if depth is not None and block.level <= depth:
                depth = None
            if depth is None and pattern.search(block.text):
                depth = block.level
        elif block.kind == "text" and block.text:
            if depth is not None:
                return True
            if pattern.search(block.text):
                if not pattern.fullmatch(re.sub(r"\W", "", block.text)):
                    return True
                depth = _LABEL_LEVEL
    return False


def _problems(section: Section, chars: int, results: bool,
              discussion: bool) -> list[RubricMessage]:
    """A message for each requirement of a found section that is not met."""
    params = {"section": section.title}
    problems = []
    if chars < section.min_summary_chars:
        problems.append(RubricMessage("rubric.summary_short",
                                      {**params, "chars": chars, "min": section.min_summary_chars}))
    if section.results and not results:
        problems.append(RubricMessage("rubric.results_missing", params))
    if section.discussion and not discussion:
        problems.append(RubricMessage("rubric.discussion_missing", params))
    return problems


def check_section(section: Section, blocks: Sequence[Block], rubric: Rubric) -> SectionResult:
    """Apply one section's requirements to its blocks (``[]`` when the section is missing)."""
    chars = summary_chars(blocks, rubric.quoted)
    results = any(b.kind == "result" for b in blocks)
    discussion = has_discussion(blocks, rubric.discussion_pattern)
    problems = _problems(section, chars, results, discussion) if blocks else [RubricMessage(
        "rubric.section_missing", {"section": section.title,
                                   "pattern": section.patterns[0].pattern})]
    ok = RubricMessage("rubric.section_ok", {"section": section.title, "chars": chars})
    return SectionResult(
        id=section.id, title=section.title, found=bool(blocks), summary_chars=chars,
        has_results=results, has_discussion=discussion, passed=not problems,
        messages=tuple(problems or [ok]),
    )


def check_report(path: Path, rubric: Rubric) -> RubricResult:
    """Apply ``rubric`` to the report at ``path``; RubricError when it cannot be read."""
    per_section = section_blocks(report_blocks(path), rubric.sections)
    return RubricResult(Path(path), tuple(check_section(s, per_section[s.id], rubric)
                                          for s in rubric.sections))
