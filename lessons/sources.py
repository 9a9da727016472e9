"""Where a lesson's device facts come from (`sources:`), and which models a `models:` glob reaches.

A lesson's front matter names its sources, one kind per item::

    sources:
      - miio: AirPurifierMiot.set_favorite_level   # a python-miio class and member
      - miot: motor-speed:favorite-fan-level        # a MIoT spec service:property or action,
      - miot: "*:off-delay-time"                    # service * where it differs by model
      - manual: Mi Air Purifier 3H user manual      # a manufacturer manual, by title

This module never imports python-miio: the caller hands lint the known model names and,
if it can, a function that says whether a python-miio reference exists.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import Any

SOURCE_KINDS = ("miio", "miot", "manual")
MAX_SOURCE = 120

_MIIO_RE = re.compile(r"^[A-Z][A-Za-z0-9_]*\.[a-z_][A-Za-z0-9_]*$")
_MIOT_RE = re.compile(r"^(?:\*|[a-z0-9][a-z0-9.-]*):[a-z0-9][a-z0-9.-]*$")
_GLOB_CHARS = frozenset("*?[")

# Does a python-miio "Class.method" reference exist? None when the caller cannot tell.
SourceCheck = Callable[[str], bool | None]


def check_sources(value: Any) -> list[tuple[str, str]]:
    """Check the shape of a `sources:` list; return (key, message) pairs, empty when valid."""
    if not isinstance(value, list) or not value:
        return [("sources", "'sources' must be a non-empty list like [{miio: Class.method}]")]
    errors: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(value):
        key = f"sources[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            errors.append((key, f"each source is one of {', '.join(SOURCE_KINDS)}: <reference>"))
            continue
        ((kind, ref),) = item.items()
        if kind not in SOURCE_KINDS:
            errors.append(
                (key, f"unknown source kind {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
            )
            continue
        if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_SOURCE:
            errors.append((key, f"source {kind!r} needs a text reference under {MAX_SOURCE}"))
            continue
        if kind == "miio" and not _MIIO_RE.match(ref):
            errors.append((key, f"a miio source is Class.method, got {ref!r}"))
        elif kind == "miot" and not _MIOT_RE.match(ref):
            errors.append((key, f"a miot source is service:property, got {ref!r}"))
        if (kind, ref) in seen:
            errors.append((key, f"source {kind}: {ref} is listed twice"))
        seen.add((kind, ref))
    return errors


def parse_sources(value: Any) -> tuple[tuple[str, str], ...]:
    """Return (kind, reference) pairs from a `sources:` list that passed check_sources."""
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(kind), str(ref))
        for item in value
        if isinstance(item, dict)
        for kind, ref in item.items()
    )


def split_models(known: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Split known model names into exact names and family globs (a bare '*' reaches nothing)."""
    exact: set[str] = set()
    globs: list[str] = []
    for model in known:
        if not model or model.strip("*") == "":
            continue
        if _GLOB_CHARS & set(model):
            globs.append(model)
        else:
            exact.add(model)
    return frozenset(exact), tuple(globs)


def pattern_reaches(pattern: str, exact: frozenset[str], globs: tuple[str, ...]) -> bool:
    """Does a lesson's `models:` glob match a known model?

    A literal name also counts when a known family glob covers it (roborock.vacuum.s5 is a
    roborock.vacuum.* model); a glob must match at least one exact known name.
    """
    if any(fnmatch.fnmatchcase(model, pattern) for model in exact):
        return True
    if _GLOB_CHARS & set(pattern):
        return False
    return any(fnmatch.fnmatchcase(pattern, known) for known in globs)
