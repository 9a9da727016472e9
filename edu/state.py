"""A household's state as ranking sees it: read once, cached until something changes.

Every change bumps the household's ``revision`` (edu.revisions). A reader checks it with one
small query and reuses the state it read before when nothing changed; when something did,
the state is read again, except the devices' capabilities (and the lessons found for them),
which are kept while ``features_revision`` holds: polls, people and usage change often, a
device's features only when it is scanned. The state holds plain frozen rows, never ORM
objects, so it outlives the session that read it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import String, cast
from sqlalchemy import select as sa_select
from sqlmodel import Session

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
from edu.revisions import revisions_of
from edu.sharing import Shared

# Memo kinds derived from one device's capabilities alone (HouseholdState.from_features): a
# state read at the same features revision inherits them.
T = TypeVar("T")
FEATURE_MEMOS = frozenset({"lessons", "mapped"})
_NO_CAPABILITIES: list[CapabilityRow] = []  # a device not read (none is): one list, one answer
_BATCH = 2000  # rows read at a time from the big tables


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    role: str
    language: str


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
    features_revision: int = 0
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

    def from_features(
        self,
        kind: str,
        device: DeviceRow,
        make: Callable[[list[CapabilityRow], DeviceRow], T],
        *extra: Any,
    ) -> T:
        """Return what *make* finds from *device*'s capabilities (a *kind* of FEATURE_MEMOS;
        it may also use the device's model and family, and *extra*), found once per equal
        capability list: the devices of one model share one list (edu.sharing), and so one
        answer, instead of holding one each."""
        caps = self.capabilities.get(device.id, _NO_CAPABILITIES)
        memo_key = (kind, id(caps), device.model, device.family, *extra)
        entry = self.memo.get(memo_key)
        if entry is None or entry[0] is not caps:  # the memo holds the list: its id stays its own
            entry = self.memo[memo_key] = (caps, make(caps, device))
        return entry[1]  # type: ignore[no-any-return]


def read_state(session: Session, household: Household) -> HouseholdState:
    """Read the state of *household* from the database (no cache)."""
    return read_states(session, [household])[key(household)]


def _table(model: Any) -> Any:
    """A model's plain table: rows come back as tuples, without the ORM's loading."""
    return model.__table__


def _columns(model: Any) -> Any:
    return _table(model).c


def read_states(
    session: Session,
    households: list[Household],
    kept: Mapping[int, HouseholdState] | None = None,
) -> dict[int, HouseholdState]:
    """Read the states of many households in a handful of queries (no cache). A state in
    *kept* (one whose capabilities are still current: the caller compared features revisions)
    lends its capabilities and the lessons found for them instead of reading them again."""
    ids = [h.id for h in households if h.id is not None]
    if not ids:
        return {}
    kept = {hid: state for hid, state in (kept or {}).items() if hid in ids}
    people_c, device_c, cap_c = _columns(Person), _columns(Device), _columns(DeviceCapability)
    chosen_c, marks_c = _columns(PersonDevice), _columns(LessonProgress)
    use_c = _columns(FeatureUse)
    in_people = people_c.household_id.in_(ids)
    people: dict[int, list[PersonRow]] = defaultdict(list)
    uses_all: dict[int, bool] = {}
    for hid, pid, name, role, language, all_devices in session.execute(
        sa_select(
            people_c.household_id,
            people_c.id,
            people_c.name,
            people_c.role,
            people_c.language,
            people_c.uses_all_devices,
        )
        .where(in_people)
        .order_by(people_c.id)
    ):
        people[hid].append(PersonRow(pid, name, role, language))
        uses_all[pid] = all_devices
    shared = Shared()  # the rows many devices repeat, held once
    devices: dict[int, dict[int, DeviceRow]] = defaultdict(dict)
    for hid, *row in session.execute(
        sa_select(
            device_c.household_id,
            device_c.id,
            device_c.did,
            device_c.name,
            device_c.model,
            device_c.family,
            device_c.status,
            device_c.first_seen,
            device_c.token_ciphertext.is_not(None),
        )
        .where(device_c.household_id.in_(ids))
        .execution_options(yield_per=_BATCH)  # a batch of rows at a time, not all at once
    ):
        device_id, did, name, model, family, status, first_seen, token_known = row
        devices[hid][device_id] = DeviceRow(
            device_id,
            did,
            name,
            shared.value(model),
            shared.value(family),
            shared.value(status),
            shared.value(first_seen),
            token_known,
        )
    caps: dict[int, list[CapabilityRow]] = defaultdict(list)
    for state in kept.values():
        caps.update(state.capabilities)
    if unread := [hid for hid in ids if hid not in kept]:
        for device_id, *row in session.execute(
            sa_select(
                cap_c.device_id,
                cap_c.capability,
                cap_c.mapped,
                cap_c.setting,
                cap_c.action,
                cap_c.method,
                cast(cap_c.details, String),  # JSON text: decoded once per distinct text
                cap_c.in_use,
            )
            .join(_table(Device), cap_c.device_id == device_c.id)
            .where(device_c.household_id.in_(unread))
            .order_by(cap_c.capability)
            .execution_options(yield_per=_BATCH)
        ):
            caps[device_id].append(shared.row(CapabilityRow, *row, json_field=5))
    chosen: dict[int, set[int]] = defaultdict(set)
    for pid, device_id in session.execute(
        sa_select(chosen_c.person_id, chosen_c.device_id)
        .join(_table(Person), chosen_c.person_id == people_c.id)
        .where(in_people)
    ):
        chosen[pid].add(device_id)
    progress: dict[int, dict[str, Mark]] = defaultdict(dict)
    for pid, lesson, state, until in session.execute(
        sa_select(
            marks_c.person_id,
            marks_c.lesson,
            marks_c.state,
            marks_c.until,
        )
        .join(_table(Person), marks_c.person_id == people_c.id)
        .where(in_people)
    ):
        progress[pid][lesson] = Mark(state, until)
    device_side: dict[int, set[tuple[int, str]]] = defaultdict(set)
    attributed: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for hid, device_id, capability, person_key in session.execute(
        sa_select(
            use_c.household_id,
            use_c.device_id,
            use_c.capability,
            use_c.person_key,
        ).where(use_c.household_id.in_(ids))
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
            {d: shared.rows(caps.get(d, [])) for d in own},
            devices_of,
            used,
            {p.id: progress[p.id] for p in folks if p.id in progress},
            household.features_revision,
        )
        if hid in kept:  # what was found per device from its capabilities alone
            memo = list(kept[hid].memo.items())  # at once: pages may be adding to it
            states[hid].memo.update((k, v) for k, v in memo if k[0] in FEATURE_MEMOS)
    return states


_CACHE_SIZE = 512  # households kept
_cache: OrderedDict[tuple[str, int], HouseholdState] = OrderedDict()
_cache_lock = threading.Lock()


def load_state(session: Session, household: Household | int) -> HouseholdState:
    """Return the state of a household, reusing the cached one while its revision holds (and
    its capabilities while its features revision holds)."""
    hid = household if isinstance(household, int) else household.id
    assert hid is not None
    bind = session.get_bind()
    cache_key = (f"{getattr(bind, 'url', '')}#{id(getattr(bind, 'engine', bind))}", hid)
    revision, features = revisions_of(session, hid)
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached is not None and cached.revision == revision:
            _cache.move_to_end(cache_key)
            return cached
    row = household if isinstance(household, Household) else session.get(Household, hid)
    assert row is not None
    current = cached is not None and cached.features_revision == features
    state = read_states(session, [row], {hid: cached} if cached and current else None)[hid]
    state.revision, state.features_revision = revision, features
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
