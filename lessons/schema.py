"""The lesson front-matter schema: allowed keys, their types and values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lessons.sources import check_sources

LEVELS = ("beginner", "intermediate", "advanced")
MAX_MINUTES = 30
MAX_TITLE = 100
MAX_SUMMARY = 240

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

REQUIRED_KEYS = ("id", "capability", "level", "minutes", "title", "summary")
OPTIONAL_KEYS = ("families", "models", "try_it", "requires", "demo", "sources")
TRY_IT_KEYS = ("setting", "value", "revert_after", "action", "params")
DEMO_KEYS = ("rank", "points")


def check_meta(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Check front matter against the schema; return (key, message) pairs, empty when valid."""
    errors: list[tuple[str, str]] = []
    for key in meta:
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            errors.append((str(key), f"unknown front-matter key {key!r}"))
    for key in REQUIRED_KEYS:
        if key not in meta or meta[key] is None:
            errors.append((key, f"missing required key {key!r}"))
    for key in ("id", "capability", "title", "summary"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            errors.append((key, f"{key!r} must be a non-empty string"))
    for key in ("id", "capability"):
        value = meta.get(key)
        if isinstance(value, str) and value and not SLUG_RE.match(value):
            errors.append((key, f"{key!r} must be lowercase words joined by '-', got {value!r}"))
    for key, limit in (("title", MAX_TITLE), ("summary", MAX_SUMMARY)):
        value = meta.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.append((key, f"{key!r} is {len(value)} characters; keep it under {limit}"))
    level = meta.get("level")
    if level is not None and level not in LEVELS:
        errors.append(("level", f"level must be one of {', '.join(LEVELS)}, got {level!r}"))
    minutes = meta.get("minutes")
    if minutes is not None and not _positive_int(minutes, MAX_MINUTES):
        errors.append(
            ("minutes", f"minutes must be a whole number from 1 to {MAX_MINUTES}, got {minutes!r}")
        )
    for key in ("families", "models", "requires"):
        if key in meta:
            errors.extend(_check_string_list(meta[key], key))
    if "try_it" in meta:
        errors.extend(_check_try_it(meta["try_it"]))
    if "demo" in meta:
        errors.extend(_check_demo(meta["demo"]))
    if "sources" in meta:
        errors.extend(check_sources(meta["sources"]))
    return errors


def _positive_int(value: Any, maximum: int | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return False
    return maximum is None or value <= maximum


def _check_string_list(value: Any, key: str) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return [(key, f"{key!r} must be a list of strings")]
    errors = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            errors.append((f"{key}[{index}]", f"{key!r} items must be non-empty strings"))
    if len(set(map(str, value))) != len(value):
        errors.append((key, f"{key!r} lists an item twice"))
    return errors


def _check_try_it(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [("try_it", "'try_it' must be a mapping with 'setting' and 'value', or 'action'")]
    errors = [
        (f"try_it.{key}", f"unknown key {key!r} in 'try_it'")
        for key in value
        if key not in TRY_IT_KEYS
    ]
    setting, action = value.get("setting"), value.get("action")
    if (setting is None) == (action is None):
        errors.append(("try_it", "'try_it' needs exactly one of 'setting' or 'action'"))
    for key in ("setting", "action"):
        name = value.get(key)
        if name is not None and (not isinstance(name, str) or not SLUG_RE.match(name)):
            errors.append((f"try_it.{key}", f"'try_it.{key}' must be an id like 'child-lock'"))
    if setting is not None and ("value" not in value or value["value"] is None):
        errors.append(("try_it", "'try_it' with a 'setting' needs a 'value'"))
    if action is not None and "value" in value:
        errors.append(("try_it.value", "'try_it' with an 'action' takes 'params', not 'value'"))
    if "revert_after" in value:
        if action is not None:
            errors.append(
                ("try_it.revert_after", "an action cannot be reverted: drop 'revert_after'")
            )
        elif not _positive_int(value["revert_after"], 3600):
            errors.append(
                ("try_it.revert_after", "'revert_after' must be whole seconds from 1 to 3600")
            )
    return errors


def _check_demo(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [("demo", "'demo' must be a mapping with 'rank' and 'points'")]
    errors = [
        (f"demo.{key}", f"unknown key {key!r} in 'demo'") for key in value if key not in DEMO_KEYS
    ]
    if not _positive_int(value.get("rank")):
        errors.append(("demo.rank", "'demo.rank' must be a positive whole number"))
    if "points" in value:
        errors.extend(_check_string_list(value["points"], "demo.points"))
    return errors
