"""Write a draft lesson from what a device says about a feature nobody has written a lesson for.

A draft is marked `automatic`; `Catalogue.add` and `Catalogue.for_capability` let a
curated lesson win over it. Drafts are built from the vocabulary's own summary (a mapped
capability) or from the device's description of the feature (a python-miio descriptor or
a MIoT spec property), and they say that they are drafted.

`draft_for_feature` decides whether a feature deserves a draft at all: never for an
internal field (a state code, a colour mode, a motor's speed), and never for an action
the model is not shown to have (python-miio declares some actions for a whole class; a
MIoT spec lists only the model's own).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lessons.catalogue import DEFAULT_LANG, Lesson

logger = logging.getLogger(__name__)

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MAX_CHOICES = 12

# Fields a device reports for its own bookkeeping, not features a person uses.
INTERNAL_NAMES = frozenset(
    {
        "ac powered",
        "button pressed",
        "color mode",
        "colour mode",
        "device fault",
        "device state",
        "fault",
        "last pressed button",
        "motor speed",
        "state",
        "state code",
        "status",
        "use time",
        "vacuum state",
    }
)
INTERNAL_SUFFIXES = (" code", " id", " parameters", " heartbeat")
INTERNAL_UNITS = frozenset({"rpm"})
INTERNAL_SERVICES = ("private-service:",)

DRAFT_NOTE = (
    "*This is a drafted lesson: Feature Coach wrote it from what {source}, and nobody "
    "has checked it on your model yet. A fuller lesson will replace it once one is written.*"
)


def slugify(text: str) -> str:
    """Return lowercase words joined by '-', e.g. 'LED brightness' -> 'led-brightness'."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-") or "feature"


def _plain(text: str) -> str:
    """Escape Markdown so device-supplied text shows as written and cannot form links."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return "".join(_HTML_SPECIAL.get(char, char) for char in escaped)


def is_internal(name: str, details: Mapping[str, Any] | None = None) -> bool:
    """Is this a field the device keeps for itself (State code, Color mode, Motor speed ...)?"""
    details = details or {}
    words = " ".join(name.lower().replace("_", " ").split())
    if words in INTERNAL_NAMES or words.endswith(INTERNAL_SUFFIXES):
        return True
    if str(details.get("unit") or "").lower() in INTERNAL_UNITS:
        return True
    if str(details.get("entity_category") or "").lower() in ("diagnostic", "config"):
        return True
    return str(details.get("miot") or "").startswith(INTERNAL_SERVICES)


def draft_for_feature(
    capability: str, family: str, details: Mapping[str, Any], *, model: str | None = None
) -> Lesson | None:
    """Draft a lesson for a feature the vocabulary does not know, or None when none is due.

    details is the device's own description of it (`CapabilityReport.descriptors`): name,
    kind (setting | sensor | action), unit, choices, range, writable, reported, miot.
    """
    name = " ".join(str(details.get("name") or "").split()) or capability
    kind = details.get("kind")
    if is_internal(name, details):
        logger.debug("no draft for internal field %s (%s)", capability, name)
        return None
    if details.get("reported") is False:
        return None  # declared by the class, but this device does not report it
    if kind == "action" and not details.get("miot"):
        # python-miio declares some actions for every model of a class (mop washing on an
        # S5); only a MIoT spec, which is the model's own, shows the model has it.
        logger.debug("no draft for class-wide action %s on %s", capability, model)
        return None
    choices = details.get("choices")
    return draft_lesson(
        capability,
        family,
        name,
        description=details.get("description"),
        unit=details.get("unit"),
        choices=list(choices) if isinstance(choices, list | tuple) else None,
        value_range=details.get("range"),
        writable=bool(details.get("writable")),
        is_action=kind == "action",
        model=model,
    )


def draft_lesson(
    capability: str,
    family: str,
    name: str,
    *,
    description: str | None = None,
    summary: str | None = None,
    unit: str | None = None,
    choices: Sequence[Any] | None = None,
    value_range: Sequence[float] | None = None,
    writable: bool = False,
    is_action: bool = False,
    model: str | None = None,
) -> Lesson:
    """Build an automatic English lesson for one feature.

    summary is the vocabulary's sentence for a capability it knows; description is what
    the device (its MIoT spec) says about the feature. writable: a setting a person can
    change, whether through a descriptor or a setter method.
    """
    title_name = " ".join(name.split()) or capability
    if is_action:
        title = f"Run “{title_name}” from your phone"
    elif writable:
        title = f"Set “{title_name}” from your phone"
    else:
        title = f"Read “{title_name}” on your phone"
    text = " ".join((summary or description or "").split())
    return Lesson(
        id=f"{family}-{slugify(capability)}",
        capability=capability,
        families=(family,),
        models=(model,) if model else (),
        level="beginner",
        minutes=1,
        title=title[:100],
        summary=(text or f"Your {family} offers “{title_name}”.")[:240],
        lang=DEFAULT_LANG,
        try_it=None,
        body=_draft_body(
            family,
            title_name,
            summary,
            description,
            unit,
            choices,
            value_range,
            writable,
            is_action,
        ),
        automatic=True,
    )


def _draft_body(
    family: str,
    name: str,
    summary: str | None,
    description: str | None,
    unit: str | None,
    choices: Sequence[Any] | None,
    value_range: Sequence[float] | None,
    writable: bool,
    is_action: bool,
) -> str:
    source = "Feature Coach knows about this feature" if summary else "the device says about it"
    lines = [DRAFT_NOTE.format(source=source), ""]
    lines.append(f"Your {_plain(family)} has a feature called **{_plain(name)}**.")
    if summary:
        lines += ["", _plain(summary)]
    if description and description.strip().lower() != name.strip().lower():
        lines += ["", f"The device describes it as: {_plain(description)}."]
    facts = []
    if choices:
        shown = ", ".join(_plain(str(choice)) for choice in list(choices)[:MAX_CHOICES])
        more = " and more" if len(choices) > MAX_CHOICES else ""
        facts.append(f"- Choices: {shown}{more}.")
    if value_range is not None and len(value_range) >= 2:
        low, high = value_range[0], value_range[1]
        suffix = f" {_plain(unit)}" if unit and unit != "none" else ""
        facts.append(f"- Range: {low} to {high}{suffix}.")
    elif unit and unit != "none":
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
            "page or in its settings. Set it, and see what the device does differently."
        )
    else:
        lines.append(
            "Open the device in the Xiaomi Home app: this reading appears on its control page."
        )
    return "\n".join(lines) + "\n"
