"""Load the lesson catalogue: one Markdown file with YAML front matter per lesson and language."""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lessons.frontmatter import Document, FrontMatterError, parse
from lessons.schema import LANG_RE, LEVELS, check_meta
from lessons.sources import parse_sources

logger = logging.getLogger(__name__)

SHIPPED_ROOT = Path(__file__).resolve().parent
DEFAULT_LANG = "en"
# lessons/any/ holds lessons worded for any device: they reach a device of no known family,
# and a device of a family that has no lesson of its own for the capability.
ANY_FOLDER = "any"
NO_FAMILY = ""  # the family of a device whose family is not known
# <slug>.<lang>.md, e.g. child-lock.en.md or child-lock.zh-CN.md
FILE_RE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)\.(?P<lang>[A-Za-z0-9-]+)\.md$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lesson file, at a 1-based line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def format(self, base: Path | None = None) -> str:
        """Return `path:line: message`, with the path relative to base when it lies inside."""
        path = self.path
        if base is not None and self.path.is_relative_to(base):
            path = self.path.relative_to(base)
        return f"{path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class TryIt:
    """What "try it now" does on the device: change a setting for a while, or run an action."""

    setting: str | None = None
    value: Any = None
    revert_after: int | None = None
    action: str | None = None
    params: Any = None


@dataclass(frozen=True)
class Demo:
    """How a lesson appears in a store demo script: its rank (1 shows first) and talking points."""

    rank: int
    points: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    """One lesson in one language."""

    id: str
    capability: str
    families: tuple[str, ...]
    level: str
    minutes: int
    title: str
    summary: str
    lang: str = DEFAULT_LANG
    models: tuple[str, ...] = ()
    try_it: TryIt | None = None
    requires: tuple[str, ...] = ()
    demo: Demo | None = None
    sources: tuple[tuple[str, str], ...] = ()  # (miio | miot | manual, reference)
    path: Path | None = None
    body: str = ""
    body_line: int = 1
    automatic: bool = False
    meta_lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def level_rank(self) -> int:
        """Return 0 for beginner, 1 for intermediate, 2 for advanced."""
        return LEVELS.index(self.level) if self.level in LEVELS else len(LEVELS)

    def applies_to(self, family: str | None = None, model: str | None = None) -> bool:
        """Say whether this lesson fits a device of this family and model.

        family None means any family; NO_FAMILY (a device whose family is not known) is
        reached only by lessons worded for any device (no families).
        """
        if family == NO_FAMILY and self.families:
            return False
        if family is not None and self.families and family not in self.families:
            return False
        if model is not None and self.models:
            return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)
        return True


def lesson_from_document(doc: Document, path: Path, family: str, lang: str) -> Lesson:
    """Build a Lesson from front matter that passed check_meta."""
    meta = doc.meta
    try_it = None
    if isinstance(meta.get("try_it"), dict):
        raw = meta["try_it"]
        try_it = TryIt(
            setting=raw.get("setting"),
            value=raw.get("value"),
            revert_after=raw.get("revert_after"),
            action=raw.get("action"),
            params=raw.get("params"),
        )
    demo = None
    if isinstance(meta.get("demo"), dict):
        demo = Demo(rank=meta["demo"]["rank"], points=tuple(meta["demo"].get("points") or ()))
    return Lesson(
        id=meta["id"],
        capability=meta["capability"],
        families=tuple(meta.get("families") or (() if family == ANY_FOLDER else (family,))),
        models=tuple(meta.get("models") or ()),
        level=meta["level"],
        minutes=meta["minutes"],
        title=meta["title"].strip(),
        summary=meta["summary"].strip(),
        try_it=try_it,
        requires=tuple(meta.get("requires") or ()),
        demo=demo,
        sources=parse_sources(meta.get("sources")),
        lang=lang,
        path=path,
        body=doc.body,
        body_line=doc.body_line,
        meta_lines=doc.lines,
    )


def lesson_files(root: Path) -> list[Path]:
    """List the lesson files under root: <family>/<name>.md, sorted."""
    found: list[Path] = []
    with os.scandir(root) as families:
        for entry in families:
            if not entry.is_dir() or entry.name.startswith((".", "_")):
                continue
            with os.scandir(entry.path) as files:
                found.extend(
                    Path(item.path)
                    for item in files
                    if item.name.endswith(".md") and item.is_file()
                )
    return sorted(found)


def split_name(path: Path) -> tuple[str, str] | None:
    """Return (slug, lang) from a lesson file name, or None when it breaks the convention."""
    match = FILE_RE.match(path.name)
    if match is None or not LANG_RE.match(match["lang"]):
        return None
    return match["slug"], match["lang"]


class Catalogue:
    """Every lesson, by id and language, with lookup by capability."""

    def __init__(self, lessons: Iterable[Lesson] = (), problems: Iterable[Problem] = ()) -> None:
        self._by_lang: dict[str, dict[str, Lesson]] = {}
        self._by_capability: dict[str, list[Lesson]] = {}
        self.problems: list[Problem] = list(problems)
        for lesson in lessons:
            self.add(lesson)

    @classmethod
    def load(cls, root: Path | str | None = None) -> Catalogue:
        """Load every lesson under root (default: the lessons shipped in this package).

        Files that cannot be read or break the schema are skipped and recorded in
        `problems`; `lessons.lint` reports them in full.
        """
        base = Path(root) if root is not None else SHIPPED_ROOT
        catalogue = cls()
        for path in lesson_files(base):
            lesson = read_lesson(path, catalogue.problems)
            if lesson is None:
                continue
            if catalogue.get(lesson.id, lesson.lang, fallback=False) is not None:
                catalogue.problems.append(Problem(path, 2, f"duplicate lesson id {lesson.id!r}"))
                continue
            catalogue.add(lesson)
        if catalogue.problems:
            logger.warning(
                "skipped %d broken lesson file(s) under %s", len(catalogue.problems), base
            )
        return catalogue

    def add(self, lesson: Lesson) -> None:
        """Add a lesson; a curated lesson replaces an automatic draft with the same id."""
        per_lang = self._by_lang.setdefault(lesson.lang, {})
        existing = per_lang.get(lesson.id)
        if existing is not None:
            if lesson.automatic and not existing.automatic:
                return
            if lesson.lang == DEFAULT_LANG:
                self._by_capability[existing.capability].remove(existing)
        per_lang[lesson.id] = lesson
        if lesson.lang == DEFAULT_LANG:
            self._by_capability.setdefault(lesson.capability, []).append(lesson)

    def get(self, lesson_id: str, lang: str = DEFAULT_LANG, fallback: bool = True) -> Lesson | None:
        """Return a lesson in lang, falling back to its base language and then English."""
        candidates = [lang]
        if fallback:
            base = lang.split("-", 1)[0]
            candidates.append(base)
            if base == lang:  # "zh" asks for any Chinese; "zh-TW" must not get "zh-CN"
                candidates += sorted(code for code in self._by_lang if code.startswith(base + "-"))
            candidates.append(DEFAULT_LANG)
        for code in candidates:
            lesson = self._by_lang.get(code, {}).get(lesson_id)
            if lesson is not None:
                return lesson
        return None

    def __contains__(self, lesson_id: object) -> bool:
        return lesson_id in self._by_lang.get(DEFAULT_LANG, {})

    def __iter__(self) -> Iterator[Lesson]:
        return iter(sorted(self._by_lang.get(DEFAULT_LANG, {}).values(), key=lambda item: item.id))

    def __len__(self) -> int:
        return len(self._by_lang.get(DEFAULT_LANG, {}))

    def ids(self) -> list[str]:
        """Return the ids of the English lessons, sorted."""
        return sorted(self._by_lang.get(DEFAULT_LANG, {}))

    def languages(self) -> list[str]:
        """Return the language codes present, English first."""
        return sorted(self._by_lang, key=lambda code: (code != DEFAULT_LANG, code))

    def lessons(self, lang: str | None = None) -> list[Lesson]:
        """Return every lesson in one language (default: all languages), sorted by id."""
        langs = [lang] if lang is not None else self.languages()
        found = [lesson for code in langs for lesson in self._by_lang.get(code, {}).values()]
        return sorted(found, key=lambda item: (item.id, item.lang))

    def translations(self, lesson_id: str) -> dict[str, Lesson]:
        """Return every language version of a lesson, by language code."""
        return {
            code: lessons[lesson_id]
            for code, lessons in self._by_lang.items()
            if lesson_id in lessons
        }

    def capabilities(self) -> list[str]:
        """Return the capability ids that have at least one English lesson."""
        return sorted(self._by_capability)

    def for_capability(
        self, capability: str, family: str | None = None, model: str | None = None
    ) -> list[Lesson]:
        """Return the English lessons that teach capability on a device of family and model.

        Curated lessons come before automatic drafts, then easy before hard, then by id. For
        a known family, a lesson written for that family wins over one worded for any device.
        """
        found = [
            lesson
            for lesson in self._by_capability.get(capability, ())
            if lesson.applies_to(family, model)
        ]
        if family and any(lesson.families and not lesson.automatic for lesson in found):
            found = [lesson for lesson in found if lesson.families]
        if any(not lesson.automatic for lesson in found):
            found = [lesson for lesson in found if not lesson.automatic]
        return sorted(found, key=lambda item: (item.level_rank, item.id))


def read_lesson(path: Path, problems: list[Problem]) -> Lesson | None:
    """Read and check one lesson file; append what is wrong to problems and return None."""
    names = split_name(path)
    if names is None:
        problems.append(
            Problem(path, 1, "file name must be <slug>.<lang>.md, e.g. child-lock.en.md")
        )
        return None
    doc = read_document(path, problems)
    if doc is None:
        return None
    errors = check_meta(doc.meta)
    for key, message in errors:
        problems.append(Problem(path, doc.line_of(key), message))
    for key, line in doc.duplicates:
        problems.append(Problem(path, line, f"front-matter key {key!r} is given twice"))
    if errors or doc.duplicates:
        return None
    return lesson_from_document(doc, path, path.parent.name, names[1])


def read_document(path: Path, problems: list[Problem]) -> Document | None:
    """Read and split a lesson file; append a Problem and return None when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(path, 1, f"cannot read file: {exc.strerror}"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(path, line, f"not UTF-8 text: byte 0x{data[exc.start]:02x}"))
        return None
    try:
        return parse(text)
    except FrontMatterError as exc:
        problems.append(Problem(path, exc.line, exc.message))
        return None
