"""A household's state as ranking sees it: read once, cached until something changes.

Every flush that touches people, devices, capabilities, usage or lesson progress bumps the
household's ``revision`` (an ORM event, so no service can forget it, in any process). A
reader checks the revision with one small query and reuses the state it read before when
nothing changed. The state holds plain frozen rows, never ORM objects, so it outlives the
session that read it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from edu.db import key
from edu.models import (
    Device,
    DeviceCapability,
    FeatureUse,
    Household,
    LessonProgress,
    Person,
    PersonDevice,
)

_TRACKED = (Device, DeviceCapability, FeatureUse, LessonProgress, Person, PersonDevice, Household)
_CACHE_SIZE = 512


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    role: str
    language: str


@dataclass(frozen=True)
class DeviceRow:
    id: int
    did: int
    name: str
    model: str | None
    family: str | None
    status: str
    first_seen: datetime
    token_known: bool

    @property
    def display_name(self) -> str:
        return self.name or self.model or f"device {self.did}"


class CapabilityLike(Protocol):
    """What the services read of a device's capability: a stored row or a CapabilityRow."""

    @property
    def capability(self) -> str: ...
    @property
    def mapped(self) -> bool: ...
    @property
    def setting(self) -> str | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def method(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class CapabilityRow:
    capability: str
    mapped: bool
    setting: str | None
    action: str | None
    method: str | None
    details: dict[str, Any] | None
    in_use: bool

    @classmethod
    def of(cls, row: DeviceCapability) -> CapabilityRow:
        """Copy a stored row, to use after its session is closed."""
        return cls(
            row.capability, row.mapped, row.setting, row.action, row.method, row.details, row.in_use
        )


@dataclass(frozen=True)
class Mark:
    state: str  # done | dismissed | snoozed
    until: datetime | None


@dataclass
class HouseholdState:
    """Everything ranking needs about one household."""

    household_id: int
    kind: str
    revision: int
    people: list[PersonRow]
    devices: dict[int, DeviceRow]
    capabilities: dict[int, list[CapabilityRow]]
    devices_of: dict[int, set[int]]
    used: dict[int, set[tuple[int, str]]]  # person id -> {(device id, capability)}
    progress: dict[int, dict[str, Mark]]  # person id -> lesson id -> mark
    # person id -> {(family, capability)} and {capability}: constant-time "does X use Y"
    used_in_family: dict[int, set[tuple[str | None, str]]] = field(default_factory=dict)
    used_anywhere: dict[int, set[str]] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # derived results, same lifetime

    def __post_init__(self) -> None:
        for pid, pairs in self.used.items():
            self.used_in_family[pid] = {
                (self.devices[d].family, c) for d, c in pairs if d in self.devices
            }
            self.used_anywhere[pid] = {c for _, c in pairs}

    def uses(self, person_id: int, capability: str, families: tuple[str, ...] = ()) -> bool:
        """Did the person use *capability* on any of their devices (of these families)?"""
        if not families:
            return capability in self.used_anywhere.get(person_id, ())
        pairs = self.used_in_family.get(person_id, ())
        return any((family, capability) in pairs for family in families)

    def mark(self, person_id: int, lesson_id: str) -> Mark | None:
        """Return what the person did with a lesson, if anything."""
        return self.progress.get(person_id, {}).get(lesson_id)


def _household_ids(session: Session, rows: list[Any]) -> set[int]:
    ids: set[int] = set()
    for row in rows:
        if isinstance(row, Household):
            continue  # its own changes (the revision itself) need no bump
        household_id = getattr(row, "household_id", None)
        if household_id is None and isinstance(row, DeviceCapability):
            device = session.get(Device, row.device_id)
            household_id = device.household_id if device else None
        if household_id is None and isinstance(row, (LessonProgress, PersonDevice)):
            person = session.get(Person, row.person_id)
            household_id = person.household_id if person else None
        if household_id is not None:
            ids.add(household_id)
    return ids


def _bump_revisions(session: Session, _context: Any) -> None:
    changed = [
        o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, _TRACKED)
    ]
    if not changed:
        return
    ids = _household_ids(session, changed)
    if ids:
        # this transaction now holds uncommitted changes: don't cache what it reads
        session.info["edu_uncommitted"] = True
        session.connection().execute(
            update(Household)
            .where(col(Household.id).in_(ids))
            .values(revision=Household.revision + 1)
        )


def _transaction_over(session: Session, *_args: Any) -> None:
    session.info.pop("edu_uncommitted", None)


_installed = threading.Lock()
_INSTALLED: list[bool] = []


def track_revisions() -> None:
    """Install the flush hook that bumps household revisions (idempotent)."""
    with _installed:
        if not _INSTALLED:
            event.listen(Session, "after_flush", _bump_revisions)
            event.listen(Session, "after_commit", _transaction_over)
            event.listen(Session, "after_rollback", _transaction_over)
            _INSTALLED.append(True)


def read_state(session: Session, household: Household) -> HouseholdState:
    """Read the state of *household* from the database (no cache)."""
    return read_states(session, [household])[key(household)]


def read_states(session: Session, households: list[Household]) -> dict[int, HouseholdState]:
    """Read the states of many households in a handful of queries (no cache)."""
    ids = [h.id for h in households if h.id is not None]
    if not ids:
        return {}
    in_people = col(Person.household_id).in_(ids)
    people: dict[int, list[PersonRow]] = defaultdict(list)
    uses_all: dict[int, bool] = {}
    for hid, pid, name, role, language, all_devices in session.execute(
        sa_select(
            col(Person.household_id),
            col(Person.id),
            col(Person.name),
            col(Person.role),
            col(Person.language),
            col(Person.uses_all_devices),
        )
        .where(in_people)
        .order_by(col(Person.id))
    ):
        people[hid].append(PersonRow(pid, name, role, language))
        uses_all[pid] = all_devices
    devices: dict[int, dict[int, DeviceRow]] = defaultdict(dict)
    for hid, *row in session.execute(
        sa_select(
            col(Device.household_id),
            col(Device.id),
            col(Device.did),
            col(Device.name),
            col(Device.model),
            col(Device.family),
            col(Device.status),
            col(Device.first_seen),
            col(Device.token_ciphertext).is_not(None),
        ).where(col(Device.household_id).in_(ids))
    ):
        devices[hid][row[0]] = DeviceRow(*row)
    caps: dict[int, list[CapabilityRow]] = defaultdict(list)
    for device_id, *row in session.execute(
        sa_select(
            col(DeviceCapability.device_id),
            col(DeviceCapability.capability),
            col(DeviceCapability.mapped),
            col(DeviceCapability.setting),
            col(DeviceCapability.action),
            col(DeviceCapability.method),
            col(DeviceCapability.details),
            col(DeviceCapability.in_use),
        )
        .join(Device, col(DeviceCapability.device_id) == col(Device.id))
        .where(col(Device.household_id).in_(ids))
        .order_by(col(DeviceCapability.capability))
    ):
        caps[device_id].append(CapabilityRow(*row))
    chosen: dict[int, set[int]] = defaultdict(set)
    for pid, device_id in session.execute(
        sa_select(col(PersonDevice.person_id), col(PersonDevice.device_id))
        .join(Person, col(PersonDevice.person_id) == col(Person.id))
        .where(in_people)
    ):
        chosen[pid].add(device_id)
    progress: dict[int, dict[str, Mark]] = defaultdict(dict)
    for pid, lesson, state, until in session.execute(
        sa_select(
            col(LessonProgress.person_id),
            col(LessonProgress.lesson),
            col(LessonProgress.state),
            col(LessonProgress.until),
        )
        .join(Person, col(LessonProgress.person_id) == col(Person.id))
        .where(in_people)
    ):
        progress[pid][lesson] = Mark(state, until)
    device_side: dict[int, set[tuple[int, str]]] = defaultdict(set)
    attributed: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for hid, device_id, capability, person_key in session.execute(
        sa_select(
            col(FeatureUse.household_id),
            col(FeatureUse.device_id),
            col(FeatureUse.capability),
            col(FeatureUse.person_key),
        ).where(col(FeatureUse.household_id).in_(ids))
    ):
        (device_side[hid] if person_key == 0 else attributed[person_key]).add(
            (device_id, capability)
        )
    states = {}
    for household in households:
        hid = household.id
        assert hid is not None
        own, folks = devices.get(hid, {}), people.get(hid, [])
        devices_of = {
            p.id: set(own) if uses_all.get(p.id, True) else chosen[p.id] & set(own) for p in folks
        }
        used = {
            p.id: {pair for pair in device_side[hid] if pair[0] in devices_of[p.id]}
            | attributed[p.id]
            for p in folks
        }
        states[hid] = HouseholdState(
            hid,
            household.kind,
            household.revision,
            folks,
            own,
            {d: caps.get(d, []) for d in own},
            devices_of,
            used,
            {p.id: progress[p.id] for p in folks if p.id in progress},
        )
    return states


_cache: OrderedDict[tuple[str, int], HouseholdState] = OrderedDict()
_cache_lock = threading.Lock()


def load_state(session: Session, household: Household | int) -> HouseholdState:
    """Return the state of a household, reusing the cached one while its revision holds."""
    hid = household if isinstance(household, int) else household.id
    assert hid is not None
    bind = session.get_bind()
    cache_key = (f"{getattr(bind, 'url', '')}#{id(getattr(bind, 'engine', bind))}", hid)
    revision = session.exec(select(Household.revision).where(Household.id == hid)).first()
    if revision is None:
        raise LookupError(f"no household {hid}")
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached is not None and cached.revision == revision:
            _cache.move_to_end(cache_key)
            return cached
    row = household if isinstance(household, Household) else session.get(Household, hid)
    assert row is not None
    state = read_state(session, row)
    state.revision = revision
    if session.info.get("edu_uncommitted"):
        return state
    with _cache_lock:
        _cache[cache_key] = state
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return state


def clear_state_cache() -> None:
    """Forget every cached household state (tests and benchmarks)."""
    with _cache_lock:
        _cache.clear()
