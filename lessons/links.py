"""Check the Markdown body of a lesson: links that resolve, and no HTML that could run code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from lessons.catalogue import Lesson, Problem

ALLOWED_SCHEMES = ("http", "https", "mailto", "lesson")
FORBIDDEN_HTML = re.compile(
    r"<\s*(script|iframe|style|object|embed|form|base|meta|link)\b|\son[a-z]+\s*=", re.IGNORECASE
)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?")
_HTML_URL = re.compile(r"\b(?:href|src)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^\s>]*)>")
_INLINE_CODE = re.compile(r"`+[^`]*`+")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def check_body(
    lesson: Lesson, root: Path, english: Mapping[str, Lesson], problems: list[Problem]
) -> None:
    assert lesson.path is not None
    if not lesson.body.strip():
        problems.append(Problem(lesson.path, lesson.body_line, "the lesson has no body"))
        return
    for number, target in _links(lesson.body, lesson.body_line):
        message = _check_link(target, lesson.path, root, english)
        if message is not None:
            problems.append(Problem(lesson.path, number, message))
    in_fence = False
    for offset, text in enumerate(lesson.body.split("\n")):
        if text.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        match = None if in_fence else FORBIDDEN_HTML.search(_INLINE_CODE.sub("", text))
        if match is not None:
            problems.append(
                Problem(
                    lesson.path,
                    lesson.body_line + offset,
                    f"unsafe HTML in the body: {match.group(0).strip()!r}",
                )
            )


def _links(body: str, first_line: int) -> Iterable[tuple[int, str]]:
    """Yield (file line, target) for every link and image outside code."""
    in_fence = False
    for offset, text in enumerate(body.split("\n")):
        if text.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        text = _INLINE_CODE.sub("", text)
        number = first_line + offset
        for match in _INLINE_LINK.finditer(text):
            yield number, match.group(1)
        reference = _REFERENCE.match(text)
        if reference is not None:
            yield number, reference.group(1)
        for match in _HTML_URL.finditer(text):
            yield number, next(group for group in match.groups() if group is not None)
        for match in _AUTOLINK.finditer(text):
            yield number, match.group(1)


def _check_link(target: str, path: Path, root: Path, english: Mapping[str, Lesson]) -> str | None:
    """Return why a link target is broken, or None when it resolves."""
    compact = _CONTROL.sub("", target)
    if not compact:
        return "empty link target"
    scheme_match = _SCHEME.match(compact)
    if scheme_match is not None:
        scheme = scheme_match.group(1).lower()
        if scheme not in ALLOWED_SCHEMES:
            return f"link scheme {scheme + ':'!r} is not allowed"
        if scheme == "lesson":
            lesson_id = compact.split(":", 1)[1].split("#", 1)[0]
            if lesson_id not in english:
                return f"broken link: no lesson {lesson_id!r}"
        return None
    if compact.startswith("//"):
        return "protocol-relative links are not allowed; write https://"
    local = compact.split("#", 1)[0].split("?", 1)[0]
    if not local:
        return None  # an anchor on the same page
    if local.startswith("/"):
        return f"broken link {target!r}: link other lessons as lesson:ID or by relative path"
    resolved = (path.parent / local).resolve()
    try:
        resolved.relative_to(root.resolve())
    except ValueError:
        return f"broken link {target!r}: it points outside the lesson catalogue"
    if not resolved.is_file():
        return f"broken link {target!r}: no such file"
    return None
