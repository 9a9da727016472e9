"""Check every lesson file against the schema, the vocabulary and the other lessons.

The vocabulary is a plain mapping built by the caller, so this module knows capability
ids only as strings. Per capability id::

    {"families": ["fan", "air-purifier", "humidifier", "heater"],
     "kind": "setting",                                     # setting | mode | action | sensor
     "settings": {"child-lock": {"type": "bool", "value": True}},  # what try_it.setting may name
     "actions": {}}                                         # what try_it.action may name

`settings` and `actions` may also be plain lists of ids. A setting's spec may give "type"
(bool, int, float, str, list), "choices", "min" and "max" (or "range": [min, max]),
"value" (a sample, whose shape a list value must follow) and "families"; whatever it
gives is checked, whatever it leaves out is not. `lessons.vocabulary` builds this mapping
from the vocabulary file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lessons.catalogue import (
    ANY_FOLDER,
    DEFAULT_LANG,
    SHIPPED_ROOT,
    Lesson,
    Problem,
    lesson_files,
    read_lesson,
    split_name,
)
from lessons.links import check_body
from lessons.sources import SourceCheck, pattern_reaches, split_models

__all__ = ["Problem", "lint", "main"]


def lint(
    root: Path | str | None,
    vocabulary: Mapping[str, Mapping[str, Any]],
    *,
    known_models: Iterable[str] | None = None,
    source_exists: SourceCheck | None = None,
    require_sources: bool = False,
) -> list[Problem]:
    """Check every lesson under root; return the problems sorted by path and line.

    known_models (exact names and family globs such as roborock.vacuum.*): a `models:`
    narrowing must reach one of them. source_exists: says whether a `miio: Class.method`
    source is real. require_sources: every English lesson must name its sources.
    """
    base = Path(root) if root is not None else SHIPPED_ROOT
    problems: list[Problem] = []
    lessons: list[Lesson] = []
    for path in lesson_files(base):
        lesson = read_lesson(path, problems)
        if lesson is not None:
            lessons.append(lesson)
    english = _unique_ids(lessons, problems)
    models = split_models(known_models or ())
    known_families = {family for entry in vocabulary.values() for family in _families(entry)}
    for lesson in lessons:
        _check_naming(lesson, known_families, problems)
        _check_capability(lesson, vocabulary, known_families, problems)
        _check_requires(lesson, english, problems)
        _check_sources(lesson, source_exists, require_sources, problems)
        if known_models is not None:
            _check_models(lesson, models, problems)
        if lesson.lang != DEFAULT_LANG:
            _check_translation(lesson, english, problems)
        check_body(lesson, base, english, problems)
    _check_cycles(english, problems)
    return sorted(problems, key=lambda item: (str(item.path), item.line, item.message))


def _line(lesson: Lesson, key: str, default: int = 2) -> int:
    if key in lesson.meta_lines:
        return lesson.meta_lines[key]
    parent = key.rsplit(".", 1)[0]
    return lesson.meta_lines.get(parent, default)


def _problem(lesson: Lesson, key: str, message: str) -> Problem:
    assert lesson.path is not None
    return Problem(lesson.path, _line(lesson, key), message)


def _unique_ids(lessons: list[Lesson], problems: list[Problem]) -> dict[str, Lesson]:
    """Report ids used twice in one language; return the English lessons by id."""
    seen: dict[tuple[str, str], Lesson] = {}
    for lesson in lessons:
        first = seen.setdefault((lesson.lang, lesson.id), lesson)
        if first is not lesson:
            problems.append(
                _problem(lesson, "id", f"duplicate lesson id {lesson.id!r} (also in {first.path})")
            )
    return {lesson_id: lesson for (lang, lesson_id), lesson in seen.items() if lang == DEFAULT_LANG}


def _families(entry: Mapping[str, Any]) -> list[str]:
    families = entry.get("families") or []
    if isinstance(families, str):
        return [families]
    return [str(family) for family in families]


def _check_naming(lesson: Lesson, known_families: set[str], problems: list[Problem]) -> None:
    assert lesson.path is not None
    folder = lesson.path.parent.name
    names = split_name(lesson.path)
    slug = names[0] if names else lesson.path.stem
    expected = f"{folder}-{slug}"
    if lesson.id != expected:
        problems.append(
            _problem(
                lesson, "id", f"id {lesson.id!r} does not match its file: expected {expected!r}"
            )
        )
    if folder == ANY_FOLDER:
        if lesson.families:
            problems.append(
                _problem(
                    lesson,
                    "families",
                    f"a lesson in {ANY_FOLDER}/ is for every family: drop 'families'",
                )
            )
    elif known_families and folder not in known_families:
        problems.append(Problem(lesson.path, 1, f"folder {folder!r} is not a known device family"))
    elif lesson.families and folder not in lesson.families:
        problems.append(
            _problem(lesson, "families", f"'families' must include the folder's family {folder!r}")
        )


def _check_capability(
    lesson: Lesson,
    vocabulary: Mapping[str, Mapping[str, Any]],
    known_families: set[str],
    problems: list[Problem],
) -> None:
    entry = vocabulary.get(lesson.capability)
    if entry is None:
        problems.append(_problem(lesson, "capability", f"unknown capability {lesson.capability!r}"))
        return
    allowed = set(_families(entry))
    for index, family in enumerate(lesson.families):
        key = f"families[{index}]" if "families" in lesson.meta_lines else "capability"
        if known_families and family not in known_families:
            problems.append(_problem(lesson, key, f"unknown device family {family!r}"))
        elif allowed and family not in allowed:
            problems.append(
                _problem(
                    lesson,
                    key,
                    f"capability {lesson.capability!r} does not apply to family {family!r}"
                    f" (it applies to {', '.join(sorted(allowed))})",
                )
            )
    if lesson.try_it is not None:
        _check_try_it(lesson, entry, problems)


def _specs(entry: Mapping[str, Any], key: str) -> dict[str, Mapping[str, Any]]:
    raw = entry.get(key) or {}
    if isinstance(raw, Mapping):
        return {
            str(name): (spec if isinstance(spec, Mapping) else {}) for name, spec in raw.items()
        }
    return {str(name): {} for name in raw}


def _check_try_it(lesson: Lesson, entry: Mapping[str, Any], problems: list[Problem]) -> None:
    try_it = lesson.try_it
    assert try_it is not None
    kind, name = ("setting", try_it.setting) if try_it.setting else ("action", try_it.action)
    specs = _specs(entry, kind + "s")
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none"
        problems.append(
            _problem(
                lesson,
                f"try_it.{kind}",
                f"capability {lesson.capability!r} has no {kind} {name!r} (known: {known})",
            )
        )
        return
    spec = specs[name]
    spec_families = set(_families(spec))
    if spec_families:
        for family in lesson.families:
            if family not in spec_families:
                problems.append(
                    _problem(
                        lesson, f"try_it.{kind}", f"{kind} {name!r} is not available on {family!r}"
                    )
                )
    if kind == "setting":
        message = check_value(try_it.value, spec)
        if message is not None:
            problems.append(_problem(lesson, "try_it.value", f"invalid try_it value: {message}"))


def check_value(value: Any, spec: Mapping[str, Any]) -> str | None:
    """Return why value does not fit a setting spec, or None when it fits."""
    kind = str(spec.get("type") or "").lower()
    choices = spec.get("choices")
    if isinstance(choices, Mapping):
        choices = list(choices)
    if choices:
        if value not in choices:
            listed = ", ".join(repr(choice) for choice in choices)
            return f"{value!r} is not one of {listed}"
        return None
    if kind in ("bool", "boolean") and not isinstance(value, bool):
        return f"expected true or false, got {value!r}"
    if kind in ("int", "integer") and (isinstance(value, bool) or not isinstance(value, int)):
        return f"expected a whole number, got {value!r}"
    if kind in ("float", "number") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        return f"expected a number, got {value!r}"
    if kind in ("str", "string") and not isinstance(value, str):
        return f"expected text, got {value!r}"
    if kind == "list":
        sample = spec.get("value")
        if not isinstance(value, list):
            return f"expected a list like {sample!r}, got {value!r}"
        if isinstance(sample, list) and (
            len(value) != len(sample)
            or any(type(item) is not type(like) for item, like in zip(value, sample, strict=False))
        ):
            return f"expected a list like {sample!r}, got {value!r}"
    low, high = spec.get("min"), spec.get("max")
    if isinstance(spec.get("range"), Sequence) and len(spec["range"]) >= 2:
        low, high = spec["range"][0], spec["range"][1]
    if isinstance(value, int | float) and not isinstance(value, bool):
        if low is not None and value < low:
            return f"{value!r} is below the minimum {low!r}"
        if high is not None and value > high:
            return f"{value!r} is above the maximum {high!r}"
    return None


def _check_sources(
    lesson: Lesson,
    source_exists: SourceCheck | None,
    require_sources: bool,
    problems: list[Problem],
) -> None:
    if not lesson.sources:
        if require_sources and lesson.lang == DEFAULT_LANG:
            problems.append(
                _problem(lesson, "id", "lesson names no 'sources' for its device facts")
            )
        return
    if source_exists is None:
        return
    for index, (kind, ref) in enumerate(lesson.sources):
        if kind == "miio" and source_exists(ref) is False:
            problems.append(_problem(lesson, f"sources[{index}]", f"python-miio has no {ref!r}"))


def _check_models(
    lesson: Lesson, models: tuple[frozenset[str], tuple[str, ...]], problems: list[Problem]
) -> None:
    for index, pattern in enumerate(lesson.models):
        if not pattern_reaches(pattern, *models):
            problems.append(
                _problem(
                    lesson, f"models[{index}]", f"'models' entry {pattern!r} matches no known model"
                )
            )


def _check_requires(lesson: Lesson, english: Mapping[str, Lesson], problems: list[Problem]) -> None:
    for index, required in enumerate(lesson.requires):
        if required not in english:
            problems.append(
                _problem(lesson, f"requires[{index}]", f"unknown prerequisite lesson {required!r}")
            )


def _check_cycles(english: Mapping[str, Lesson], problems: list[Problem]) -> None:
    """Report each prerequisite cycle once, on the lesson with the smallest id in it."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(lesson_id: str, path: list[str]) -> None:
        state[lesson_id] = 1
        path.append(lesson_id)
        for required in english[lesson_id].requires:
            if required not in english:
                continue
            if state.get(required) == 1:
                cycle = path[path.index(required) :]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    start = cycle.index(min(cycle))
                    ordered = cycle[start:] + cycle[:start]
                    first = english[ordered[0]]
                    following = ordered[1] if len(ordered) > 1 else ordered[0]
                    index = first.requires.index(following)
                    chain = " -> ".join([*ordered, ordered[0]])
                    problems.append(
                        _problem(first, f"requires[{index}]", f"prerequisite cycle: {chain}")
                    )
            elif state.get(required) is None:
                visit(required, path)
        path.pop()
        state[lesson_id] = 2

    for lesson_id in sorted(english):
        if lesson_id not in state:
            visit(lesson_id, [])


def _check_translation(
    lesson: Lesson, english: Mapping[str, Lesson], problems: list[Problem]
) -> None:
    original = english.get(lesson.id)
    if original is None:
        problems.append(
            _problem(lesson, "id", f"translation {lesson.id!r} has no English original")
        )
        return
    if original.capability != lesson.capability:
        problems.append(
            _problem(
                lesson,
                "capability",
                f"translation capability {lesson.capability!r} differs from the English"
                f" original's {original.capability!r}",
            )
        )
    for key in ("try_it", "sources", "models", "families"):
        if getattr(original, key) != getattr(lesson, key):
            problems.append(
                _problem(lesson, key, f"translation {key!r} differs from the English original's")
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Lint a lesson folder against a vocabulary file; print path:line: message lines."""
    from lessons.vocabulary import DEFAULT_VOCABULARY, VocabularyError, load_vocabulary

    parser = argparse.ArgumentParser(prog="python -m lessons.lint", description=main.__doc__)
    parser.add_argument("root", nargs="?", type=Path, default=SHIPPED_ROOT)
    parser.add_argument("--vocabulary", type=Path, default=DEFAULT_VOCABULARY)
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: no lesson folder at {args.root}", file=sys.stderr)
        return 2
    try:
        vocabulary = load_vocabulary(args.vocabulary)
    except VocabularyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = lint(args.root, vocabulary, require_sources=True)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
