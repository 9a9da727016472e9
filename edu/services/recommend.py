"""What each person should learn next: their devices' features, minus what they use, ranked.

Ranking (DESIGN section 6), deterministic for the same data:
prerequisites met first, then easy before hard, then people at home who use the feature,
then the share of owners of the model who do (the community hub's table, once joined), then
newer devices, then curated before automatic drafts, then lesson id and device id.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from edu.catalogue import catalogue
from edu.community import data as hub
from edu.db import utcnow
from edu.state import CapabilityLike, DeviceRow, HouseholdState, Mark, load_state

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
    reason_code: str  # community | owners | builds-on | new-device | automatic | not-yet
    reason_params: dict[str, Any] = field(default_factory=dict)
    at_home: int = 0  # other people at home who use it
    community: dict[str, int] | None = None  # {"homes", "using"} from the hub, when published
    people: int = 1
    automatic: bool = False
    can_try: bool = False
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Device(Protocol):
    @property
    def family(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...


class _Person(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def household_id(self) -> int: ...
    @property
    def language(self) -> str: ...


# per catalogue (weakly: a catalogue that goes away takes its entries with it)
_LESSONS_MEMO: weakref.WeakKeyDictionary[Catalogue, dict[tuple[Any, ...], list[Lesson]]] = (
    weakref.WeakKeyDictionary()
)
_LESSONS_MEMO_SIZE = 20_000


def lessons_for(cap: CapabilityLike, device: _Device, book: Catalogue) -> list[Lesson]:
    """Curated lessons for a device capability, or one automatic draft when there are none.

    Memoised per catalogue: the same model's capabilities come back for every device and
    every household, and the catalogue does not change while the process runs.
    """
    details = "" if cap.mapped else json.dumps(cap.details, sort_keys=True, default=str)
    memo = _LESSONS_MEMO.setdefault(book, {})
    memo_key = (
        cap.capability,
        cap.mapped,
        bool(cap.setting),
        bool(cap.action),
        device.family,
        device.model,
        details,
    )
    found = memo.get(memo_key)
    if found is None:
        found = _lessons_for(cap, device, book)
        if len(memo) >= _LESSONS_MEMO_SIZE:
            memo.clear()
        memo[memo_key] = found
    return found


def _lessons_for(cap: CapabilityLike, device: _Device, book: Catalogue) -> list[Lesson]:
    from edu.catalogue import lint_vocabulary
    from lessons.catalogue import NO_FAMILY
    from lessons.drafts import draft_for_feature, draft_lesson

    family = device.family or "device"
    if cap.mapped:
        found = book.for_capability(cap.capability, device.family or NO_FAMILY, device.model)
        if found:
            return found
        entry = lint_vocabulary().get(cap.capability, {})
        kind = entry.get("kind")
        return [
            draft_lesson(
                cap.capability,
                family,
                str(entry.get("title") or cap.capability),
                summary=entry.get("summary"),
                # the vocabulary's kind, also for settings written through a setter method
                writable=kind in ("setting", "mode") if kind else bool(cap.setting),
                is_action=kind == "action" if kind else bool(cap.action),
                model=device.model,
            )
        ]
    draft = draft_for_feature(cap.capability, family, cap.details or {}, model=device.model)
    return [draft] if draft is not None else []


def find_lesson(
    session: Session,
    household_id: int,
    lesson_id: str,
    lang: str = "en",
    *,
    book: Catalogue | None = None,
) -> Lesson | None:
    """Return a curated lesson in *lang* (English fallback), or a draft for a household device."""
    book = book or catalogue()
    found = book.get(lesson_id, lang)
    if found is not None:
        return found
    state = load_state(session, household_id)
    for device in state.devices.values():
        if lesson_id.startswith(f"{device.family or 'device'}-"):  # drafts: "device-..."
            for cap in state.capabilities.get(device.id, ()):
                for draft in lessons_for(cap, device, book):
                    if draft.id == lesson_id:
                        return draft
    return None


def hidden(mark: Mark | None, now: datetime) -> bool:
    """Is a lesson out of the list because of what the person did with it?"""
    if mark is None:
        return False
    if mark.state in ("done", "dismissed"):
        return True
    return mark.state == "snoozed" and (mark.until is None or mark.until > now)


def changes_at(state: HouseholdState, person_id: int, now: datetime) -> datetime | None:
    """The first moment after *now* when the clock alone changes the person's list: a
    snooze ends or one of their devices stops being new (None: nothing waits on the clock)."""
    moments = [
        mark.until
        for mark in state.progress.get(person_id, {}).values()
        if mark.state == "snoozed" and mark.until is not None and mark.until > now
    ]
    moments += [
        device.first_seen + timedelta(days=NEW_DEVICE_DAYS)
        for device in (state.devices[d] for d in state.devices_of.get(person_id, ()))
        if device.first_seen + timedelta(days=NEW_DEVICE_DAYS) > now
    ]
    return min(moments, default=None)


@dataclass(frozen=True)
class Candidate:
    """A lesson for a device, before the person-specific checks and ranking."""

    lesson: Lesson
    device: DeviceRow


def candidates(state: HouseholdState, person_id: int, book: Catalogue) -> list[Candidate]:
    """Every lesson for the person's devices, once each, newest device first (memoised)."""
    memo_key = ("candidates", person_id, book)
    found = state.memo.get(memo_key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    ordered = sorted(
        (state.devices[d] for d in state.devices_of.get(person_id, ())),
        key=lambda d: (-d.first_seen.timestamp(), d.did),
    )
    seen: set[str] = set()
    out: list[Candidate] = []
    for device in ordered:
        per_device: list[Lesson] = state.from_features(
            "lessons",
            device,
            lambda caps, one: [lesson for cap in caps for lesson in lessons_for(cap, one, book)],
            book,
        )
        for lesson in per_device:
            if lesson.id in seen or (lesson.automatic and lesson.id in book):
                continue
            seen.add(lesson.id)
            out.append(Candidate(lesson, device))
    state.memo[memo_key] = out
    return out


def recommend(
    session: Session,
    person: _Person,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    book: Catalogue | None = None,
    state: HouseholdState | None = None,
    adoption: hub.Table | None = None,
) -> list[Recommendation]:
    """Rank the lessons *person* has not learned yet (*adoption*: the hub's table, else the cache)."""
    now = now or utcnow()
    pid = person.id
    assert pid is not None
    state = state or load_state(session, person.household_id)
    if not state.devices_of.get(pid):
        return []  # lessons come from devices: none to rank, no catalogue to load
    book = book or catalogue()
    models = {d.model for d in state.devices.values() if d.model}
    table = hub.adoption_table(session, models) if adoption is None else adoption
    others, ranked = [p.id for p in state.people if p.id != pid], []
    for candidate in candidates(state, pid, book):
        lesson, device = candidate.lesson, candidate.device
        if hidden(state.mark(pid, lesson.id), now):
            continue
        if state.uses(pid, lesson.capability, lesson.families or (device.family or "",)):
            continue
        ranked.append(rank(state, pid, person.language, others, device, lesson, book, now, table))
    ranked.sort(key=lambda pair: pair[0])
    items = [item for _, item in ranked]
    return items[:limit] if limit is not None else items


def _arrived_recently(state: HouseholdState, device: DeviceRow, now: datetime) -> bool:
    """A device joined an existing household in the last two weeks (not the first set-up)."""
    if now - device.first_seen >= timedelta(days=NEW_DEVICE_DAYS):
        return False
    first = state.memo.get("first_seen")
    if first is None:
        first = state.memo["first_seen"] = min(d.first_seen for d in state.devices.values())
    return bool(device.first_seen - first > timedelta(days=1))


def rank_key(
    unmet: bool, community: int, device: DeviceRow, lesson: Lesson, share: float = 0.0
) -> tuple[Any, ...]:
    """The sort key: prerequisites, level, people at home, owners elsewhere, age, drafts last."""
    return (
        1 if unmet else 0,
        lesson.level_rank,
        -community,
        -share,
        -device.first_seen.timestamp(),
        1 if lesson.automatic else 0,
        lesson.id,
        device.did,
    )


def _knows(state: HouseholdState, person_id: int, lesson: Lesson) -> bool:
    mark = state.mark(person_id, lesson.id)
    return (mark is not None and mark.state == "done") or state.uses(
        person_id, lesson.capability, lesson.families
    )


def rank(
    state: HouseholdState,
    pid: int,
    language: str,
    others: list[int],
    device: DeviceRow,
    lesson: Lesson,
    book: Catalogue,
    now: datetime,
    adoption: hub.Table | None = None,
) -> tuple[tuple[Any, ...], Recommendation]:
    known = [p for p in (book.get(r) for r in lesson.requires) if p is not None]
    owners = hub.published(adoption, device.model, lesson.capability)
    unmet = [p for p in known if not _knows(state, pid, p)]
    community = sum(1 for other in others if _knows(state, other, lesson))
    people = len(state.people)
    where = "in the shop" if state.kind == "store" else "at home"
    name = device.display_name
    if community:
        code, params = "community", {"count": community, "people": people, "where": where}
        reason = f"{community} of {people} people {where} use this"
    elif owners is not None and owners.using:
        code, params, reason = hub.owners_reason(owners, device.family, lesson.capability)
    elif known and not unmet:
        code, params = "builds-on", {"lesson": known[0].title}
        reason = f"Builds on “{known[0].title}”, which you know"
    elif _arrived_recently(state, device, now):
        code, params = "new-device", {"device": name}
        reason = f"New: your {name} arrived recently"
    elif lesson.automatic:
        code, params = "automatic", {"device": name}
        reason = f"Your {name} describes this feature; no one has written a lesson for it yet"
    else:
        code, params = "not-yet", {"device": name}
        reason = f"You haven't used this on your {name} yet"
    shown = (book.get(lesson.id, language) if not lesson.automatic else None) or lesson
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
        at_home=community,
        community=owners.to_dict() if owners is not None else None,
        people=people,
        automatic=lesson.automatic,
        can_try=lesson.try_it is not None,
        lang=shown.lang,
    )
    return rank_key(bool(unmet), community, device, lesson, hub.share_of(owners)), item
