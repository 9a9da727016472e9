"""Write a draft lesson from what a device says about a feature nobody has written a lesson for.

A draft is marked `automatic`; `Catalogue.add` and `Catalogue.for_capability` let a
curated lesson win over it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lessons.catalogue import DEFAULT_LANG, Lesson

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MAX_CHOICES = 12


def slugify(text: str) -> str:
    """Return lowercase words joined by '-', e.g. 'LED brightness' -> 'led-brightness'."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-") or "feature"


def _plain(text: str) -> str:
    """Escape Markdown so device-supplied text shows as written and cannot form links."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return "".join(_HTML_SPECIAL.get(char, char) for char in escaped)


def draft_lesson(
    capability: str,
    family: str,
    name: str,
    *,
    description: str | None = None,
    unit: str | None = None,
    choices: Sequence[Any] | None = None,
    value_range: Sequence[float] | None = None,
    writable: bool = False,
    is_action: bool = False,
    model: str | None = None,
) -> Lesson:
    """Build an automatic English lesson for one feature from its device description."""
    title_name = " ".join(name.split()) or capability
    if is_action:
        title = f"Run “{title_name}” from your phone"
    elif writable:
        title = f"Change “{title_name}” from your phone"
    else:
        title = f"Read “{title_name}” on your phone"
    summary = " ".join((description or "").split()) or f"Your {family} offers “{title_name}”."
    return Lesson(
        id=f"{family}-{slugify(capability)}",
        capability=capability,
        families=(family,),
        models=(model,) if model else (),
        level="beginner",
        minutes=1,
        title=title[:100],
        summary=summary[:240],
        lang=DEFAULT_LANG,
        try_it=None,
        body=_draft_body(
            family, title_name, description, unit, choices, value_range, writable, is_action
        ),
        automatic=True,
    )


def _draft_body(
    family: str,
    name: str,
    description: str | None,
    unit: str | None,
    choices: Sequence[Any] | None,
    value_range: Sequence[float] | None,
    writable: bool,
    is_action: bool,
) -> str:
    lines = [f"Your {_plain(family)} has a feature called **{_plain(name)}**."]
    if description:
        lines += ["", f"The device describes it as: {_plain(description)}."]
    facts = []
    if choices:
        shown = ", ".join(_plain(str(choice)) for choice in list(choices)[:MAX_CHOICES])
        more = " and more" if len(choices) > MAX_CHOICES else ""
        facts.append(f"- Choices: {shown}{more}.")
    if value_range is not None and len(value_range) >= 2:
        low, high = value_range[0], value_range[1]
        suffix = f" {_plain(unit)}" if unit else ""
        facts.append(f"- Range: {low} to {high}{suffix}.")
    elif unit:
        facts.append(f"- Measured in {_plain(unit)}.")
    if facts:
        lines += ["", "## What the device reports", "", *facts]
    lines += ["", "## How to use it", ""]
    if is_action:
        lines.append(
            "Open the device in the Xiaomi Home app and look for this action on its control "
            "page or in its menu."
        )
    elif writable:
        lines.append(
            "Open the device in the Xiaomi Home app and look for this setting on its control "
            "page or in its settings. Change it, and see what the device does differently."
        )
    else:
        lines.append(
            "Open the device in the Xiaomi Home app: this reading appears on its control page."
        )
    lines += [
        "",
        "*This lesson was drafted automatically from what the device says about itself; "
        "a fuller lesson will replace it once one is written.*",
    ]
    return "\n".join(lines) + "\n"
