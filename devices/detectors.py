"""The detect-rule language and flat status snapshots: what a device state says, as data."""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["Rule", "RuleError", "compile_rule", "read_status", "resolve_keys", "snapshot"]

logger = logging.getLogger(__name__)

Snapshot = Mapping[str, Any]

_FALSY_STRINGS = frozenset({"", "0", "off", "false", "no", "none", "close", "closed", "disabled"})
_SCALAR = (str, int, float, bool)
_GLOB = re.compile(r"[*?\[]")
# Status properties left out: python-miio deprecated the first two by logging a warning on
# every read (not with @deprecated); GenericMiotStatus' `data` is its raw dict (read as keys)
# and its `device` the device object.
_SKIPPED = frozenset({"depth", "water_tank_detached", "data", "device"})
_PROPERTIES: dict[type, tuple[str, ...]] = {}  # status class -> its readable properties


class RuleError(ValueError):
    """A detect rule that is not well-formed."""


# ---------------------------------------------------------------- the rule language


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() not in _FALSY_STRINGS
    return bool(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equals(value: Any, expected: Any) -> bool:
    """Compare a snapshot value with rule data: strings case-insensitively, bools by truth."""
    if isinstance(expected, bool):
        return isinstance(value, _SCALAR) and _truthy(value) is expected
    if isinstance(expected, str):
        return isinstance(value, _SCALAR) and str(value).strip().casefold() == expected.casefold()
    number = _number(value)
    return number is not None and number == float(expected)


def _compare(op: str, value: Any, expected: Any) -> bool:
    if op in ("is", "eq"):
        return _equals(value, expected)
    if op == "ne":
        return not _equals(value, expected)
    if op == "in":
        return any(_equals(value, item) for item in expected)
    if op == "not_in":
        return not any(_equals(value, item) for item in expected)
    if op == "truthy":
        return _truthy(value) is expected
    number = _number(value)
    if number is None:
        return False
    if op == "gt":
        return number > expected
    if op == "ge":
        return number >= expected
    if op == "lt":
        return number < expected
    return number <= expected


_OPS: dict[str, Callable[[Any], bool]] = {
    "is": lambda v: isinstance(v, _SCALAR),
    "eq": lambda v: isinstance(v, _SCALAR),
    "ne": lambda v: isinstance(v, _SCALAR),
    "in": lambda v: isinstance(v, list) and bool(v) and all(isinstance(i, _SCALAR) for i in v),
    "not_in": lambda v: isinstance(v, list) and bool(v) and all(isinstance(i, _SCALAR) for i in v),
    "gt": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "ge": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "lt": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "le": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "truthy": lambda v: isinstance(v, bool),
    "present": lambda v: isinstance(v, bool),
}


def resolve_keys(patterns: Iterable[str], *snapshots: Snapshot) -> list[str]:
    """Return the snapshot keys named by *patterns* (globs expand over the snapshots' keys)."""
    found: dict[str, None] = {}
    for pattern in patterns:
        if _GLOB.search(pattern):
            for snap in snapshots:
                for key in sorted(k for k in snap if fnmatchcase(k, pattern)):
                    found[key] = None
        elif any(pattern in snap for snap in snapshots):
            found[pattern] = None
    return list(found)


@dataclass(frozen=True)
class Rule:
    """A compiled detect rule; call it with a snapshot to know whether it holds."""

    source: Any
    keys: tuple[str, ...]
    test: Callable[[Snapshot], bool]

    def __call__(self, snap: Snapshot) -> bool:
        return self.test(snap)


def _leaf(data: Mapping[str, Any]) -> Rule:
    if ("key" in data) == ("keys" in data):
        raise RuleError("a rule needs exactly one of 'key' or 'keys'")
    keys = [data["key"]] if "key" in data else data["keys"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise RuleError("'key'/'keys' must name one or more snapshot keys")
    ops = [name for name in data if name not in ("key", "keys")]
    unknown = [name for name in ops if name not in _OPS]
    if unknown:
        raise RuleError(f"unknown operator {unknown[0]!r} (known: {', '.join(_OPS)})")
    if len(ops) != 1:
        raise RuleError("a rule needs exactly one operator")
    op, expected = ops[0], data[ops[0]]
    if not _OPS[op](expected):
        raise RuleError(f"bad value for {op!r}: {expected!r}")

    def test(snap: Snapshot) -> bool:
        present = [snap[k] for k in resolve_keys(keys, snap) if snap[k] is not None]
        if op == "present":
            return bool(present) is expected
        return any(_compare(op, value, expected) for value in present)

    return Rule(source=dict(data), keys=tuple(keys), test=test)


def compile_rule(data: Any) -> Rule:
    """Compile detect-rule data (a mapping, or a list meaning "any of") into a Rule."""
    if isinstance(data, list):
        return compile_rule({"any": data})
    if not isinstance(data, Mapping):
        raise RuleError(f"a rule must be a mapping, got {type(data).__name__}")
    combinators = [name for name in ("any", "all", "not") if name in data]
    if not combinators:
        return _leaf(data)
    if len(data) != 1:
        raise RuleError(f"{combinators[0]!r} cannot be mixed with other fields")
    name = combinators[0]
    if name == "not":
        inner = compile_rule(data["not"])
        return Rule(source=dict(data), keys=inner.keys, test=lambda snap: not inner(snap))
    items = data[name]
    if not isinstance(items, list) or not items:
        raise RuleError(f"{name!r} needs a non-empty list of rules")
    rules = [compile_rule(item) for item in items]
    keys = tuple(dict.fromkeys(k for rule in rules for k in rule.keys))
    combine = any if name == "any" else all
    return Rule(source=dict(data), keys=keys, test=lambda snap: combine(r(snap) for r in rules))


# ---------------------------------------------------------------- snapshots


class _Skip(Exception):
    """A value that has no JSON form; the attribute is left out."""


def _jsonable(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return value.name if value.name is not None else _jsonable(value.value, depth)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Skip
        return value
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if depth >= 3:
        raise _Skip
    if isinstance(value, list | tuple):
        return [_jsonable(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if hasattr(value, "data") and hasattr(value, "descriptors"):  # a nested DeviceStatus
        return dict(_json_fields(read_status(value), depth + 1))
    raise _Skip


def _json_fields(fields: Mapping[str, Any], depth: int = 0) -> Iterable[tuple[str, Any]]:
    for key, value in fields.items():
        try:
            yield key, _jsonable(value, depth)
        except _Skip:
            # only the type: the repr of a python-miio Device shows its token
            logger.debug(
                "Leaving %s out of the snapshot: no JSON form for a %s", key, type(value).__name__
            )


def _public_properties(cls: type) -> tuple[str, ...]:
    if cls in _PROPERTIES:
        return _PROPERTIES[cls]
    names = []
    for name, prop in inspect.getmembers(cls, lambda o: isinstance(o, property)):
        # python-miio's @deprecated wraps the getter (functools.wraps) and warns on each read.
        if name.startswith("_") or name in _SKIPPED or hasattr(prop.fget, "__wrapped__"):
            continue
        names.append(name)
    _PROPERTIES[cls] = tuple(names)
    return _PROPERTIES[cls]


def read_attribute(status: Any, name: str) -> tuple[bool, Any]:
    """Return (True, value) for a readable status attribute, (False, None) when it fails."""
    try:
        return True, getattr(status, name)
    except Exception as ex:  # a status property may fail on any odd payload
        logger.debug("Skipping %s.%s: %s", type(status).__name__, name, type(ex).__name__)
        return False, None


def _miot_values(status: Any) -> dict[str, Any]:
    """Return a GenericMiotStatus' values by 'service:property', enums as their description."""
    out: dict[str, Any] = {}
    for name, prop in status.property_dict().items():
        value = prop.value
        for choice in prop.choices or ():
            if choice.value == value:
                value = choice.description
                break
        out[name] = value
    return out


def read_status(status: Any) -> dict[str, Any]:
    """Return a status' raw data keys and public property values (properties win on clashes)."""
    out: dict[str, Any] = {}
    data = getattr(status, "data", None)
    if isinstance(data, Mapping):
        out.update((str(k), v) for k, v in data.items())
    if callable(getattr(status, "property_dict", None)):
        try:
            out.update(_miot_values(status))
        except Exception as ex:  # a reply the spec does not describe
            logger.debug("Could not decode MIoT values: %s", type(ex).__name__)
    for name in _public_properties(type(status)):
        ok, value = read_attribute(status, name)
        if ok:
            out[name] = value
    return out


def status_descriptors(cls: type) -> dict[str, Any]:
    """Return a status class' descriptors by attribute name, inherited ones included.

    DeviceStatus.descriptors() only knows the class' own (FanStatusZA4 has none of FanStatus').
    """
    found: dict[str, Any] = {}
    for klass in cls.__mro__:
        for attr, desc in (vars(klass).get("_descriptors") or {}).items():
            # embed() writes "<name>__<attr>" entries into the shared class dict; skip them
            if "__" not in attr:
                found.setdefault(attr, desc)
    return found


def snapshot(status: Any, *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a flat JSON-serialisable dict of a DeviceStatus.

    Keys: raw status data keys, public property values (decoded: enums by name, timedeltas
    in seconds, datetimes ISO), descriptor ids, "<embed>__<key>" for embedded statuses, and
    *extra* (what the poller read besides status(), e.g. ``{"timers": device.timer()}``).
    A value without a JSON form is left out; this never raises for a weird attribute.
    """
    fields: dict[str, Any] = {}
    if status is not None:
        fields.update(read_status(status))
        parts = [status]
        # python-miio keeps embedded statuses in a dict shared by the whole status class
        embedded = getattr(status, "_embedded", None)
        if isinstance(embedded, Mapping):
            for name, other in embedded.items():
                fields.update((f"{name}__{k}", v) for k, v in read_status(other).items())
                parts.append(other)
        for part in parts:
            for desc in status_descriptors(type(part)).values():
                ok, value = read_attribute(part, desc.status_attribute)
                if ok:
                    fields[str(desc.id)] = value
    if extra:
        fields.update((str(k), v) for k, v in extra.items())
    return dict(_json_fields(fields))
