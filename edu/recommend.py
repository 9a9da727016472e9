"""What each person should learn next: their devices' features, minus what they use, ranked.

Ranking (DESIGN section 6), deterministic for the same data:
prerequisites met first, then easy before hard, then the community signal (how many people
at home already use the feature), then newer devices, then curated before automatic drafts,
then lesson id and device id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from edu.catalogue import capability_titles, catalogue
from edu.db import key, utcnow
from edu.models import (
    Device,
    DeviceCapability,
    FeatureUse,
    Household,
    LessonProgress,
    Person,
    PersonDevice,
)

if TYPE_CHECKING:
    from lessons.catalogue import Catalogue, Lesson

NEW_DEVICE_DAYS = 14


@dataclass(frozen=True)
class Recommendation:
    """One lesson suggested to one person, for one of their devices, with a reason."""

    lesson: str
    capability: str
    device: int
    device_name: str
    family: str | None
    title: str
    summary: str
    level: str
    minutes: int
    reason: str
    reason_code: str  # community | builds-on | new-device | automatic | not-yet
    reason_params: dict[str, Any] = field(default_factory=dict)
    community: int = 0
    people: int = 1
    automatic: bool = False
    can_try: bool = False
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HouseholdState:
    """Everything ranking needs about one household, read in a handful of queries."""

    household: Household
    people: list[Person]
    devices: dict[int, Device]
    capabilities: dict[int, list[DeviceCapability]]
    devices_of: dict[int, set[int]]
    used: dict[int, set[tuple[int, str]]]  # person id -> {(device id, capability)}
    progress: dict[int, dict[str, LessonProgress]]  # person id -> lesson id -> progress

    def uses(self, person_id: int, capability: str, families: tuple[str, ...] = ()) -> bool:
        """Did the person use *capability* on any of their devices (of these families)?"""
        for device_id, cap in self.used.get(person_id, ()):
            if cap != capability:
                continue
            family = self.devices[device_id].family
            if not families or family in families:
                return True
        return False

    def knows(self, person_id: int, lesson: Lesson) -> bool:
        """Has the person learned *lesson* (marked done, or uses its feature)?"""
        mark = self.progress.get(person_id, {}).get(lesson.id)
        if mark is not None and mark.state == "done":
            return True
        return self.uses(person_id, lesson.capability, lesson.families)


def load_state(session: Session, household: Household) -> HouseholdState:
    """Read people, devices, capabilities, usage and progress of *household*."""
    people = list(
        session.exec(
            select(Person).where(Person.household_id == household.id).order_by(col(Person.id))
        )
    )
    devices = {
        key(d): d for d in session.exec(select(Device).where(Device.household_id == household.id))
    }
    caps: dict[int, list[DeviceCapability]] = defaultdict(list)
    if devices:
        rows = session.exec(
            select(DeviceCapability)
            .where(col(DeviceCapability.device_id).in_(list(devices)))
            .order_by(col(DeviceCapability.capability))
        )
        for row in rows:
            caps[row.device_id].append(row)
    chosen: dict[int, set[int]] = defaultdict(set)
    person_ids = [key(p) for p in people]
    if person_ids:
        for link in session.exec(
            select(PersonDevice).where(col(PersonDevice.person_id).in_(person_ids))
        ):
            chosen[link.person_id].add(link.device_id)
    devices_of = {
        key(p): (set(devices) if p.uses_all_devices else chosen[key(p)] & set(devices))
        for p in people
    }
    device_side: set[tuple[int, str]] = set()
    attributed: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for use in session.exec(select(FeatureUse).where(FeatureUse.household_id == household.id)):
        if use.person_key == 0:
            device_side.add((use.device_id, use.capability))
        else:
            attributed[use.person_key].add((use.device_id, use.capability))
    used = {
        key(p): {(d, c) for d, c in device_side if d in devices_of[key(p)]} | attributed[key(p)]
        for p in people
    }
    progress: dict[int, dict[str, LessonProgress]] = defaultdict(dict)
    if person_ids:
        for mark in session.exec(
            select(LessonProgress).where(col(LessonProgress.person_id).in_(person_ids))
        ):
            progress[mark.person_id][mark.lesson] = mark
    return HouseholdState(household, people, devices, caps, devices_of, used, progress)


def lessons_for(cap: DeviceCapability, device: Device, book: Catalogue) -> list[Lesson]:
    """Curated lessons for a device capability, or one automatic draft when there are none."""
    from lessons.drafts import draft_lesson

    family = device.family or "device"
    if cap.mapped:
        found = book.for_capability(cap.capability, device.family, device.model)
        if found:
            return found
        title = capability_titles().get(cap.capability, cap.capability)
        return [
            draft_lesson(
                cap.capability,
                family,
                title,
                writable=bool(cap.setting),
                is_action=bool(cap.action),
                model=device.model,
            )
        ]
    details = cap.details or {}
    choices = details.get("choices")
    return [
        draft_lesson(
            cap.capability,
            family,
            str(details.get("name") or cap.capability),
            description=details.get("description"),
            unit=details.get("unit"),
            choices=list(choices) if isinstance(choices, (list, tuple)) else None,
            value_range=details.get("range"),
            writable=bool(details.get("writable")),
            is_action=details.get("kind") == "action",
            model=device.model,
        )
    ]


def _snoozed(mark: LessonProgress | None, now: datetime) -> bool:
    if mark is None:
        return False
    if mark.state in ("done", "dismissed"):
        return True
    return mark.state == "snoozed" and (mark.until is None or mark.until > now)


def recommend(
    session: Session,
    person: Person,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    book: Catalogue | None = None,
    state: HouseholdState | None = None,
) -> list[Recommendation]:
    """Rank the lessons *person* has not learned yet for the devices they use."""
    now = now or utcnow()
    book = book or catalogue()
    household = session.get(Household, person.household_id)
    assert household is not None
    state = state or load_state(session, household)
    pid = person.id
    assert pid is not None
    marks = state.progress.get(pid, {})
    others = [p for p in state.people if p.id != pid]
    ordered = sorted(
        (state.devices[d] for d in state.devices_of.get(pid, ())),
        key=lambda d: (-d.first_seen.timestamp(), d.did),
    )
    seen: set[str] = set()
    ranked: list[tuple[tuple[Any, ...], Recommendation]] = []
    for device in ordered:
        for cap in state.capabilities.get(key(device), ()):
            for lesson in lessons_for(cap, device, book):
                if lesson.id in seen or (lesson.automatic and lesson.id in book):
                    continue
                seen.add(lesson.id)
                if _snoozed(marks.get(lesson.id), now):
                    continue
                if state.uses(pid, lesson.capability, lesson.families or (device.family or "",)):
                    continue
                ranked.append(_rank(state, person, others, device, lesson, book, now))
    ranked.sort(key=lambda pair: pair[0])
    items = [item for _, item in ranked]
    return items[:limit] if limit is not None else items


def _rank(
    state: HouseholdState,
    person: Person,
    others: list[Person],
    device: Device,
    lesson: Lesson,
    book: Catalogue,
    now: datetime,
) -> tuple[tuple[Any, ...], Recommendation]:
    pid = person.id
    assert pid is not None
    prerequisites = [book.get(r) for r in lesson.requires]
    known = [p for p in prerequisites if p is not None]
    unmet = [p for p in known if not state.knows(pid, p)]
    community = sum(
        1
        for other in others
        if other.id is not None
        and (
            state.uses(other.id, lesson.capability, lesson.families)
            or (
                state.progress.get(other.id, {}).get(lesson.id) is not None
                and state.progress[other.id][lesson.id].state == "done"
            )
        )
    )
    people = len(state.people)
    where = "in the shop" if state.household.kind == "store" else "at home"
    name = device.display_name
    is_new = now - device.first_seen < timedelta(days=NEW_DEVICE_DAYS)
    if community:
        code, params = "community", {"count": community, "people": people, "where": where}
        reason = f"{community} of {people} people {where} use this"
    elif known and not unmet:
        code, params = "builds-on", {"lesson": known[0].title}
        reason = f"Builds on “{known[0].title}”, which you know"
    elif is_new:
        code, params = "new-device", {"device": name}
        reason = f"New: your {name} arrived recently"
    elif lesson.automatic:
        code, params = "automatic", {"device": name}
        reason = f"Your {name} describes this feature; no one has written a lesson for it yet"
    else:
        code, params = "not-yet", {"device": name}
        reason = f"You haven't used this on your {name} yet"
    translated = book.get(lesson.id, person.language) if not lesson.automatic else None
    shown = translated or lesson
    item = Recommendation(
        lesson=lesson.id,
        capability=lesson.capability,
        device=device.did,
        device_name=name,
        family=device.family,
        title=shown.title,
        summary=shown.summary,
        level=lesson.level,
        minutes=lesson.minutes,
        reason=reason,
        reason_code=code,
        reason_params=params,
        community=community,
        people=people,
        automatic=lesson.automatic,
        can_try=lesson.try_it is not None,
        lang=shown.lang,
    )
    key = (
        1 if unmet else 0,
        lesson.level_rank,
        -community,
        -device.first_seen.timestamp(),
        1 if lesson.automatic else 0,
        lesson.id,
        device.did,
    )
    return key, item


@dataclass(frozen=True)
class DeviceProgress:
    """How many of a device's features a person uses."""

    device: int
    name: str
    family: str | None
    status: str
    in_use: list[str]
    not_used: list[str]

    @property
    def total(self) -> int:
        return len(self.in_use) + len(self.not_used)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def device_progress(
    session: Session, person: Person, *, state: HouseholdState | None = None
) -> list[DeviceProgress]:
    """Return, per device the person uses, the features in use and not used yet."""
    household = session.get(Household, person.household_id)
    assert household is not None and person.id is not None
    state = state or load_state(session, household)
    used = state.used.get(person.id, set())
    rows = []
    for device_id in sorted(
        state.devices_of.get(person.id, ()), key=lambda d: state.devices[d].did
    ):
        device = state.devices[device_id]
        mapped = [c.capability for c in state.capabilities.get(device_id, ()) if c.mapped]
        in_use = sorted(c for c in mapped if (device_id, c) in used)
        rows.append(
            DeviceProgress(
                device.did,
                device.display_name,
                device.family,
                device.status,
                in_use,
                sorted(set(mapped) - set(in_use)),
            )
        )
    return rows
