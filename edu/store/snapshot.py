"""A device's writable settings: read them before a demo, put them back after, and check.

A snapshot holds one entry per status key: the value the device reported and the capability
whose writer puts it back. Only settings that can be written back are kept (a setter that
takes exactly one value of the right type, or a writable descriptor); a lesson whose setting
is not in the snapshot is left out of the demo script, because the demo could not undo it.
Restoring writes only what differs, then reads the device back and compares every entry;
`edu.store.undo` then brings the device back to rest after the actions the demo showed.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from devices.coordinator import coerce_argument
from devices.detectors import resolve_keys
from devices.link import LinkError
from devices.vocabulary import Vocabulary
from edu.db import unit_of_work
from edu.models import Device, DeviceCapability
from edu.services.tryit import same_value

if TYPE_CHECKING:
    from edu.services.inventory import Inventory

logger = logging.getLogger(__name__)

WRITABLE_KINDS = ("setting", "mode")
# Written last: switching a device off first could make it ignore (or undo) the other writes.
LAST = ("remote-power",)
PASSES = 2


class Unreachable(RuntimeError):
    """The device could not be read; ``status`` is offline, auth-failed or error."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Problem:
    """A setting that is not back to its snapshot value, or an action not undone, and why.

    For an action, ``capability`` is the action shown, ``undo`` the action run to undo it,
    ``shown`` what the device reported after it, and ``wanted`` is None.
    """

    capability: str
    key: str
    wanted: Any
    shown: Any
    reason: str  # differs | offline | auth-failed | error | not-at-rest
    undo: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "capability": self.capability,
            "key": self.key,
            "wanted": self.wanted,
            "shown": self.shown,
            "reason": self.reason,
            "undo": self.undo,
        }


@dataclass(frozen=True)
class Undone:
    """An action shown in a demo and what undid it: ``done``, ``already`` at rest, ``failed``."""

    capability: str
    undo: str
    status: str
    shown: Any = None

    def detail(self) -> str:
        """Say it in one line for the staff log."""
        said = {"done": "back at rest", "already": "already at rest", "failed": "not at rest"}
        return (
            f"{self.capability}: {self.undo}, {said.get(self.status, self.status)} ({self.shown})"
        )


@dataclass
class Restore:
    """What a restore did: the keys written, and what is still not as in the snapshot."""

    written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreachable: str = ""  # the device's status when it could not be read at all
    undone: list[Undone] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreachable

    @property
    def reason(self) -> str:
        """Say why the device is not back: offline | auth-failed | differs | not-at-rest."""
        if self.ok:
            return ""
        if self.unreachable:
            return self.unreachable
        return "differs" if any(not p.undo for p in self.problems) else "not-at-rest"


def writable(session: Session, device: Device) -> list[DeviceCapability]:
    """Return the device's mapped capabilities that are settings it can write."""
    vocabulary = Vocabulary.load()
    rows = session.exec(
        select(DeviceCapability).where(DeviceCapability.device_id == device.id)
    ).all()
    return sorted(
        (
            c
            for c in rows
            if c.mapped
            and (c.setting or c.method)
            and c.capability in vocabulary
            and vocabulary[c.capability].kind in WRITABLE_KINDS
        ),
        key=lambda c: c.capability,
    )


def read(inventory: Inventory, did: int) -> dict[str, Any]:
    """Read device *did* now, through the inventory's long-lived link (raises Unreachable)."""
    from edu.services.inventory import InventoryError, TokenUnknown

    try:
        return inventory.read(did)
    except TokenUnknown as exc:
        raise Unreachable("auth-failed", str(exc)) from None
    except InventoryError as exc:
        raise Unreachable("error", str(exc)) from None
    except LinkError as exc:
        raise Unreachable(exc.status, str(exc)) from None


def _device(session: Session, inventory: Inventory, did: int) -> Device:
    household = inventory.household(session)
    device = session.exec(
        select(Device).where(Device.household_id == household.id, Device.did == did)
    ).first()
    if device is None:
        raise Unreachable("error", "no such device")
    return device


def _required(fn: Any) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return -1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


def fits(fn: Any, value: Any) -> bool:
    """Tell whether *value* can be given back to the setter *fn* as it is."""
    if value is None or _required(fn) != 1:
        return False
    import typing

    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations: python-miio converts what it gets
        hints = {}
    first = next(iter(inspect.signature(fn).parameters.values()), None)
    wanted = hints.get(first.name) if first is not None else None
    if isinstance(value, bool) and wanted not in (None, bool):
        return False  # True == 1 would pick an enum member by accident
    try:
        coerce_argument(fn, value)
    except LinkError:
        return False
    return True


def _entry(cap: DeviceCapability, snap: dict[str, Any], live: Any) -> tuple[str, Any] | None:
    """Choose the status key that holds the value *cap*'s writer takes back, or None."""
    vocabulary = Vocabulary.load()
    patterns = ([cap.setting] if cap.setting else []) + list(vocabulary[cap.capability].change_keys)
    keys = [k for k in resolve_keys(patterns, snap) if snap.get(k) is not None]
    setter = getattr(live, cap.method, None) if cap.method else None
    if callable(setter):  # the coordinator writes through the method when it exists
        return next(((k, snap[k]) for k in keys if fits(setter, snap[k])), None)
    if cap.setting:
        if cap.setting in keys:
            return cap.setting, snap[cap.setting]
        return (keys[0], snap[keys[0]]) if keys else None
    return None


def take(inventory: Inventory, did: int) -> dict[str, Any]:
    """Read every writable setting of *did* that can be put back; raise Unreachable if offline."""
    snap = read(inventory, did)
    link = inventory.coordinator.links.get(did)
    live = link.device if link is not None else None
    settings: dict[str, dict[str, Any]] = {}
    capabilities: dict[str, str] = {}
    with unit_of_work(inventory.engine) as session:
        caps = writable(session, _device(session, inventory, did))
    for cap in caps:
        chosen = _entry(cap, snap, live)
        if chosen is None:
            logger.debug("device %s: %s cannot be put back, left out", did, cap.capability)
            continue
        key, value = chosen
        settings.setdefault(key, {"capability": cap.capability, "value": value})
        capabilities[cap.capability] = key
    return {"settings": settings, "capabilities": capabilities}


def _order(entries: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(entries.items(), key=lambda item: (item[1]["capability"] in LAST, item[0]))


def _differing(snapshot: dict[str, Any], now: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key: entry
        for key, entry in snapshot.get("settings", {}).items()
        if not same_value(now.get(key), entry["value"])
    }


def restore(inventory: Inventory, did: int, snapshot: dict[str, Any]) -> Restore:
    """Write back every setting that differs from *snapshot*, then read back and compare."""
    from edu.services.inventory import InventoryError

    result = Restore()
    try:
        now = read(inventory, did)
    except Unreachable as exc:
        result.unreachable = exc.status
        return result
    errors: dict[str, str] = {}
    for _ in range(PASSES):
        todo = _differing(snapshot, now)
        if not todo:
            break
        for key, entry in _order(todo):
            try:
                inventory.write_setting(did, entry["capability"], entry["value"])
            except LinkError as exc:
                errors[key] = exc.status
                if exc.status in ("offline", "auth-failed"):
                    break  # a device that stopped answering gets no more writes
                continue
            except InventoryError:
                errors[key] = "error"
                continue
            errors.pop(key, None)
            result.written.append(key)
        try:
            now = read(inventory, did)
        except Unreachable as exc:
            result.unreachable = exc.status
            return result
        if set(errors.values()) & {"offline", "auth-failed"}:
            break
    for key, entry in _differing(snapshot, now).items():
        result.problems.append(
            Problem(
                entry["capability"], key, entry["value"], now.get(key), errors.get(key, "differs")
            )
        )
    if result.problems:
        logger.warning("device %s: %d setting(s) not restored", did, len(result.problems))
    return result
