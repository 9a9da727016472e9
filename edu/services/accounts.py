"""Services for people: first-run setup, signing in with a rate limit, invites, API tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from edu.db import key, unit, utcnow
from edu.models import ApiToken, Device, Household, Person, PersonDevice
from edu.services import pin_guard
from edu.services.people import (
    LANGUAGES,
    ROLES,
    add_person,
    check_pin,
    clean_name,
    hash_pin,
    set_devices,
    users_of,
)
from edu.text import plain_text

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)
TOKEN_PREFIX = "fc_"  # noqa: S105  (a prefix, not a secret)


def check_timezone(tz: str) -> str:
    """Return the IANA time zone name, or raise ValueError."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone (use a name like Europe/Berlin)") from None
    return tz


def setup_household(
    session: Session, *, name: str, timezone: str, language: str, admin_name: str, pin: str
) -> Person:
    """Create (or complete) the household and its first admin; return the admin."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("the household needs a name")
    if len(name) > 80:
        raise ValueError("a household name is at most 80 characters")
    check_timezone(timezone)
    if language not in LANGUAGES:
        raise ValueError("choose a language from the list")
    with unit(session):
        if session.exec(select(Person).where(Person.role == "admin")).first() is not None:
            raise ValueError("the household is already set up")
        household = session.exec(select(Household).order_by(Household.id)).first()  # type: ignore[arg-type]
        if household is None:
            household = Household(name=name)
            session.add(household)
        household.name, household.timezone, household.language = name, timezone, language
        session.flush()
        return add_person(session, household, admin_name, role="admin", pin=pin, language=language)


def profiles(session: Session, household: Household) -> list[Person]:
    """Return the people who can sign in, by name."""
    return list(
        session.exec(
            select(Person).where(Person.household_id == household.id).order_by(Person.name)
        )
    )  # type: ignore[arg-type]


@dataclass(frozen=True)
class SignIn:
    """The answer to a PIN: ``ok``, ``wrong``, ``limited`` (too many tries) or ``no-pin``."""

    result: str
    person: Person | None = None
    retry_after: int = 0


def sign_in(
    session: Session,
    person_id: int,
    pin: str,
    *,
    tries_per_minute: int = 5,
    client: str = "",
    now: datetime | None = None,
) -> SignIn:
    """Check *pin* for a profile, slowing the *client* that guesses (see pin_guard)."""
    now = now or utcnow()
    with unit(session):
        person = session.get(Person, person_id)
        if person is None:
            return SignIn("wrong")
        if person.pin_hash is None:
            return SignIn("no-pin", person)
        wait = pin_guard.wait_for(session, key(person), client, now, free_tries=tries_per_minute)
        if wait:
            logger.info("sign-in for person %s refused: too many tries", person.id)
            return SignIn("limited", person, retry_after=wait)
        ok = check_pin(person, pin)
        pin_guard.record(session, key(person), client, ok, now)
        return SignIn("ok" if ok else "wrong", person)


def _device_ids(session: Session, household: Household, dids: list[int] | None) -> list[int] | None:
    if dids is None:
        return None
    rows = session.exec(
        select(Device.id).where(Device.household_id == household.id, col(Device.did).in_(dids))
    ).all()
    return [r for r in rows if r is not None]


def invite(
    session: Session,
    household: Household,
    *,
    name: str,
    role: str,
    pin: str,
    language: str,
    dids: list[int] | None,
) -> Person:
    """Add someone with a PIN and the devices they use (None: all of them)."""
    if role not in ROLES:
        raise ValueError("choose a role from the list")
    with unit(session):
        person = add_person(session, household, name, role=role, pin=pin, language=language)
        set_devices(session, person, _device_ids(session, household, dids))
        return person


def update_person(
    session: Session,
    household: Household,
    person: Person,
    *,
    role: str | None = None,
    language: str | None = None,
    pin: str | None = None,
    name: str | None = None,
    dids: list[int] | bool | None = False,
) -> None:
    """Change what is given (``dids=False`` leaves the devices alone; None means all)."""
    with unit(session):
        if role is not None:
            if role not in ROLES:
                raise ValueError("choose a role from the list")
            if person.role == "admin" and role != "admin" and _admins(session, household) <= 1:
                raise ValueError("the household needs at least one admin")
            person.role = role
        if language is not None:
            if language not in LANGUAGES:
                raise ValueError("choose a language from the list")
            person.language = language
        if name is not None and clean_name(name) != person.name:
            name = clean_name(name)
            if session.exec(
                select(Person).where(Person.household_id == household.id, Person.name == name)
            ).first():
                raise ValueError("there is already someone with that name")
            person.name = name
        if pin:
            person.pin_hash = hash_pin(pin)
        if dids is not False:
            set_devices(
                session,
                person,
                None if dids is None or dids is True else _device_ids(session, household, dids),
            )
        session.add(person)


def _admins(session: Session, household: Household) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Person)
            .where(Person.household_id == household.id, Person.role == "admin")
        ).one()
    )


def remove_person(session: Session, household: Household, person: Person) -> None:
    """Remove someone (never the last admin)."""
    with unit(session):
        if person.role == "admin" and _admins(session, household) <= 1:
            raise ValueError("the household needs at least one admin")
        session.delete(person)


def device_people(session: Session, household: Household, device: Device, chosen: set[int]) -> None:
    """Make exactly the people with ids in *chosen* use *device*."""
    with unit(session):
        users = users_of(session, device)
        all_ids = list(session.exec(select(Device.id).where(Device.household_id == household.id)))
        for person in session.exec(select(Person).where(Person.household_id == household.id)):
            wanted = person.id in chosen
            if (person.id in users) == wanted:
                continue
            if person.uses_all_devices:  # from "all" to an explicit list without this one
                set_devices(
                    session, person, [d for d in all_ids if d is not None and d != device.id]
                )
            elif wanted:
                session.add(PersonDevice(person_id=person.id, device_id=device.id))  # type: ignore[arg-type]
            else:
                link = session.get(PersonDevice, (person.id, device.id))
                if link is not None:
                    session.delete(link)


# -- API tokens -------------------------------------------------------------------------


def token_digest(token: str) -> str:
    """Return the stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, person: Person, name: str) -> tuple[ApiToken, str]:
    """Make an API token for *person*; the plain token is returned once and never stored."""
    name = plain_text(name) or "API token"
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit(session):
        row = ApiToken(person_id=person.id, name=name, digest=token_digest(plain), hint=plain[-4:])  # type: ignore[arg-type]
        session.add(row)
    return row, plain


def tokens_of(session: Session, person: Person) -> list[ApiToken]:
    """Return a person's API tokens, newest first."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.person_id == person.id)
            .order_by(col(ApiToken.id).desc())
        )
    )  # type: ignore[union-attr]


def revoke_token(session: Session, person: Person, token_id: int) -> bool:
    """Delete one of the person's tokens; False when it is not theirs."""
    with unit(session):
        row = session.get(ApiToken, token_id)
        if row is None or row.person_id != person.id:
            return False
        session.delete(row)
        return True


def person_for_token(session: Session, token: str) -> Person | None:
    """Return the owner of an API token (None when unknown)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.digest == token_digest(token))).first()
    if row is None:
        return None
    return session.get(Person, row.person_id)
