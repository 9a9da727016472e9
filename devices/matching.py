"""How a vocabulary entry recognises its capability in what python-miio reports: descriptor ids,
status keys (with the choices their enums offer), methods and MIoT spec types; parsed and checked."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Protocol

MIOT_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
METHOD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SpecItem(Protocol):
    """What a MIoT rule reads of a descriptor: its kind, (service, type name) and choices."""

    kind: str
    miot: tuple[str, str] | None
    choices: list[str] | None


@dataclass(frozen=True)
class MiotRule:
    """Matches a MIoT property or action (or any item of a service) by its type name."""

    property: str | None = None
    action: str | None = None
    service: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()

    def matches(self, item: SpecItem) -> bool:
        """Return True when the descriptor *item* has the MIoT type this rule names."""
        if item.miot is None or (self.service and item.miot[0] not in self.service):
            return False
        wanted = self.action if item.kind == "action" else self.property
        if (self.property or self.action) and item.miot[1] != wanted:
            return False
        return not self.choices or any(
            fnmatchcase(c.casefold(), p.casefold())
            for c in item.choices or ()
            for p in self.choices
        )


@dataclass(frozen=True)
class StatusRule:
    """Matches a status key or property; with choices, its enum must offer one of them."""

    name: str
    choices: tuple[str, ...] = ()

    def matches(
        self, names: Mapping[str, Any], declared: Mapping[str, type[enum.Enum]] | None = None
    ) -> bool:
        """Return True when the status reported this name (and an enum offering a choice).

        The enum is the value's, else the one the status class *declared* for the name: a
        device in a mode its class has no name for reports a bare number, yet still offers
        the other modes.
        """
        value = names.get(self.name)
        if value is None or value == "" or not self.choices:
            return value is not None and value != ""
        kind = type(value) if isinstance(value, enum.Enum) else (declared or {}).get(self.name)
        if kind is None:
            return False
        options = [n.casefold() for n in kind.__members__]
        options += [str(m.value).casefold() for m in kind]
        return any(fnmatchcase(o, p.casefold()) for o in options for p in self.choices)


@dataclass(frozen=True)
class Match:
    """The ways python-miio can reveal a capability; any one is enough."""

    descriptors: tuple[str, ...] = ()
    status: tuple[StatusRule, ...] = ()
    methods: tuple[str, ...] = ()
    miot: tuple[MiotRule, ...] = ()


class EntryError(Exception):
    """A problem in one vocabulary entry; the vocabulary names the entry when it reports it."""


def strings(value: Any, what: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EntryError(f"{what} must be a list of non-empty strings")
    for v in value:
        if pattern is not None and not pattern.match(v):
            raise EntryError(f"{what}: {v!r} is not a valid name")
    return tuple(value)


def fields(data: Any, what: str, allowed: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise EntryError(f"{what} must be a mapping")
    for key in data:
        if key not in allowed.split():
            raise EntryError(f"{what} has unknown field {key!r}")
    return data


def listed(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise EntryError(f"{key} must be a list")
    return value


def _miot_rule(data: Any) -> MiotRule:
    data = {"property": data} if isinstance(data, str) else data
    data = fields(data, "miot item", "property action service choices")
    if ("property" in data and "action" in data) or not {"property", "action", "service"} & set(
        data
    ):
        raise EntryError("a miot item names one property or action, or only a service")
    name = {k: data[k] for k in ("property", "action") if k in data}
    if any(not isinstance(v, str) or not MIOT_NAME.match(v) for v in name.values()):
        raise EntryError(f"miot item: {next(iter(name.values()))!r} is not a valid type name")
    service = strings(data.get("service", []), "miot service", MIOT_NAME)
    choices = strings(data.get("choices", []), "miot choices")
    return MiotRule(**name, service=service, choices=choices)


def _status_rule(data: Any) -> StatusRule:
    data = fields({"name": data} if isinstance(data, str) else data, "status item", "name choices")
    name = data.get("name")
    if not isinstance(name, str) or not METHOD.match(name):
        raise EntryError(f"status item: {name!r} is not a valid name")
    return StatusRule(name, strings(data.get("choices", []), "status choices"))


def parse_match(data: Any) -> Match:
    data = fields(data, "match", "descriptors status methods miot")
    match = Match(
        descriptors=strings(data.get("descriptors", []), "match.descriptors"),
        status=tuple(_status_rule(item) for item in listed(data, "status")),
        methods=strings(data.get("methods", []), "match.methods", METHOD),
        miot=tuple(_miot_rule(item) for item in listed(data, "miot")),
    )
    if not (match.descriptors or match.status or match.methods or match.miot):
        raise EntryError("match needs at least one descriptor, status key, method or miot type")
    return match
