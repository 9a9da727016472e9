"""People in a household, their PINs, and what they did with lessons."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from edu.db import key, utcnow
from edu.models import Device, Household, LessonProgress, Person, PersonDevice
from edu.text import plain_text

ROLES = ("admin", "member", "staff")
LANGUAGES = ("en", "zh-CN")
PROGRESS_STATES = ("done", "dismissed", "snoozed")
DEFAULT_SNOOZE = timedelta(days=7)
_PIN = re.compile(r"^[0-9]{4,8}$")


class NotFound(ValueError):
    """A person, lesson or device named by the user does not exist."""


def clean_name(name: str) -> str:
    """Return the name trimmed, or raise ValueError for an empty or overlong one."""
    cleaned = " ".join(plain_text(name, limit=1000).split())
    if not cleaned:
        raise ValueError("a name cannot be empty")
    if len(cleaned) > 60:
        raise ValueError("a name is at most 60 characters")
    return cleaned


def hash_pin(pin: str) -> str:
    """Validate a PIN (4 to 8 digits) and return its hash."""
    if not _PIN.match(pin):
        raise ValueError("a PIN is 4 to 8 digits")
    return generate_password_hash(pin)


def check_pin(person: Person, pin: str) -> bool:
    """Return True when *pin* is the person's PIN."""
    return person.pin_hash is not None and check_password_hash(person.pin_hash, pin)


def add_person(
    session: Session,
    household: Household,
    name: str,
    *,
    role: str = "member",
    pin: str | None = None,
    language: str | None = None,
) -> Person:
    """Add someone to the household; names are unique within it."""
    name = clean_name(name)
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (choose {', '.join(ROLES)})")
    language = language or household.language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (choose {', '.join(LANGUAGES)})")
    taken = session.exec(
        select(Person).where(Person.household_id == household.id, Person.name == name)
    ).first()
    if taken is not None:
        raise ValueError(f"there is already someone called {name!r}")
    person = Person(
        household_id=key(household),
        name=name,
        role=role,
        pin_hash=hash_pin(pin) if pin else None,
        language=language,
    )
    session.add(person)
    session.flush()
    return person


def find_person(session: Session, household: Household, name: str) -> Person:
    """Return the person called *name*, or raise NotFound naming who exists."""
    person = session.exec(
        select(Person).where(
            Person.household_id == household.id, Person.name == " ".join(name.split())
        )
    ).first()
    if person is None:
        known = ", ".join(
            p.name
            for p in session.exec(
                select(Person).where(Person.household_id == household.id).order_by(col(Person.name))
            )
        )
        raise NotFound(
            f"no person called {name!r}"
            + (f" (known: {known})" if known else " (add one with `edu people add`)")
        )
    return person


def set_devices(session: Session, person: Person, device_ids: list[int] | None) -> None:
    """Make *person* use the given devices (None: all of the household's devices)."""
    for link in session.exec(select(PersonDevice).where(PersonDevice.person_id == person.id)):
        session.delete(link)
    person.uses_all_devices = device_ids is None
    for device_id in device_ids or ():
        session.add(PersonDevice(person_id=key(person), device_id=device_id))


def chosen_device_ids(session: Session, person: Person) -> set[int]:
    """Return the ids of the devices *person* was given one by one (not "all devices")."""
    query = select(PersonDevice.device_id).where(PersonDevice.person_id == person.id)
    return set(session.exec(query))


def uses_device(session: Session, person: Person, device: Device) -> bool:
    """Tell whether *person* uses *device*: all of the household's, or this one chosen."""
    if device.household_id != person.household_id:
        return False
    return person.uses_all_devices or session.get(PersonDevice, (person.id, device.id)) is not None


def sees_all_devices(person: Person) -> bool:
    """Does *person* see every device of the household (admins and people who use them all)?"""
    return person.role == "admin" or person.uses_all_devices


def may_see_device(session: Session, person: Person, device: Device) -> bool:
    """Admins see every device of their household; everyone else sees the devices they use."""
    if device.household_id != person.household_id:
        return False
    return sees_all_devices(person) or uses_device(session, person, device)


def used_devices(person: Person) -> ColumnElement[bool]:
    """A condition on Device rows: the devices *person* uses (see uses_device)."""
    mine = col(Device.household_id) == person.household_id
    if person.uses_all_devices:
        return mine
    chosen = select(PersonDevice.device_id).where(PersonDevice.person_id == person.id)
    return and_(mine, col(Device.id).in_(chosen))


def seen_devices(person: Person) -> ColumnElement[bool]:
    """A condition on Device rows: the devices *person* sees (see may_see_device)."""
    if person.role == "admin":
        return col(Device.household_id) == person.household_id
    return used_devices(person)


def users_of(session: Session, device: Device) -> set[int]:
    """Return the ids of the people who use *device*."""
    chosen = select(PersonDevice.person_id).where(PersonDevice.device_id == device.id)
    query = select(Person.id).where(
        Person.household_id == device.household_id,
        or_(col(Person.uses_all_devices), col(Person.id).in_(chosen)),
    )
    return {pid for pid in session.exec(query) if pid is not None}


def lesson_capability(session: Session, household: Household, lesson_id: str) -> str:
    """Return the capability a lesson teaches: curated, or a draft for a household device."""
    from edu.services.recommend import find_lesson

    lesson = find_lesson(session, key(household), lesson_id)
    if lesson is None:
        raise NotFound(f"no lesson {lesson_id!r}")
    return lesson.capability


def mark_lesson(
    session: Session,
    person: Person,
    lesson_id: str,
    state: str,
    *,
    until: datetime | None = None,
    now: datetime | None = None,
) -> LessonProgress:
    """Record that *person* learned, dismissed or snoozed a lesson."""
    if state not in PROGRESS_STATES:
        raise ValueError(f"unknown lesson state {state!r}")
    household = session.get(Household, person.household_id)
    assert household is not None
    capability = lesson_capability(session, household, lesson_id)
    now = now or utcnow()
    if state == "snoozed":
        until = until or now + DEFAULT_SNOOZE
        if until <= now:
            raise ValueError("snooze until a time in the future")
    else:
        until = None
    mark = session.exec(
        select(LessonProgress).where(
            LessonProgress.person_id == person.id, LessonProgress.lesson == lesson_id
        )
    ).first()
    if mark is None:
        mark = LessonProgress(
            person_id=key(person), lesson=lesson_id, capability=capability, state=state
        )
        session.add(mark)
    mark.state, mark.until, mark.updated_at, mark.capability = state, until, now, capability
    return mark
