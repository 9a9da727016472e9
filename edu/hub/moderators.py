"""The hub's moderators: a personal token each, an optional PIN, and how fast PINs may be guessed.

`edu hub moderator NAME` makes one and prints their token once; ``--pin`` gives them a PIN
(6 to 8 digits) for the moderation pages, hashed the way the household hashes its PINs. The
hub never sees where a request comes from (it drops the address on arrival), so wrong PINs
slow down the moderator's PIN itself, with the household's back-off counted over a day;
the personal token still signs them in while their PIN is resting.

The PIN and the attempts live in tables of their own beside ``hub_moderator``: a hub made
before PINs existed gains them with ``create_all``, no migration needed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine
from werkzeug.security import check_password_hash, generate_password_hash

from edu.db import UTCDateTime
from edu.hub.store import METADATA, moderator
from edu.services import pin_guard
from edu.services.people import hash_pin

logger = logging.getLogger(__name__)

FREE_TRIES = 5  # wrong PINs before the back-off starts (the household's default too)
MIN_PIN = 6  # the hub faces the internet: longer PINs than a home's

pin = Table(
    "hub_moderator_pin",
    METADATA,
    Column(
        "moderator_id",
        Integer,
        ForeignKey("hub_moderator.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("pin_hash", String(255), nullable=False),
)
attempt = Table(
    "hub_moderator_attempt",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column(
        "moderator_id",
        Integer,
        ForeignKey("hub_moderator.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
)


@dataclass(frozen=True)
class Moderator:
    """A moderator as the pages know them."""

    id: int
    name: str


@dataclass(frozen=True)
class SignIn:
    """The answer to a PIN: ``ok``, ``wrong`` or ``limited`` (wait *retry_after* seconds)."""

    result: str
    moderator: Moderator | None = None
    retry_after: int = 0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 60:
        raise ValueError("a moderator's name is 1 to 60 characters")
    return name


def moderator_pin_hash(value: str) -> str:
    """Check a moderator's PIN (6 to 8 digits) and return its hash."""
    if len(value) < MIN_PIN:
        raise ValueError(f"a moderator's PIN is {MIN_PIN} to 8 digits")
    try:
        return hash_pin(value)
    except ValueError:
        raise ValueError(f"a moderator's PIN is {MIN_PIN} to 8 digits") from None


def _named(conn: Connection, name: str) -> int | None:
    query = select(moderator.c.id).where(moderator.c.name == name).order_by(moderator.c.id)
    found = conn.execute(query).first()
    return None if found is None else int(found.id)


def exists(engine: Engine, name: str) -> bool:
    """Tell whether a moderator has this name."""
    with engine.connect() as conn:
        return _named(conn, _clean_name(name)) is not None


def add_moderator(engine: Engine, name: str, pin_code: str | None = None) -> str:
    """Make a moderator (names are unique); return their personal token (shown once, stored hashed)."""
    name = _clean_name(name)
    pin_hash = moderator_pin_hash(pin_code) if pin_code is not None else None
    token = "hubm_" + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        if _named(conn, name) is not None:
            raise ValueError(f"there is already a moderator called {name!r}")
        made = conn.execute(insert(moderator).values(name=name, token_hash=_digest(token)))
        key = made.inserted_primary_key
        assert key is not None
        if pin_hash is not None:
            conn.execute(insert(pin).values(moderator_id=int(key[0]), pin_hash=pin_hash))
    return token


def set_pin(engine: Engine, name: str, pin_code: str) -> None:
    """Give an existing moderator a new PIN (their token stays as it was)."""
    name, pin_hash = _clean_name(name), moderator_pin_hash(pin_code)
    with engine.begin() as conn:
        found = _named(conn, name)
        if found is None:
            raise ValueError(f"there is no moderator called {name!r}")
        conn.execute(delete(pin).where(pin.c.moderator_id == found))
        conn.execute(insert(pin).values(moderator_id=found, pin_hash=pin_hash))
        conn.execute(delete(attempt).where(attempt.c.moderator_id == found))


def by_token(engine: Engine, token: str | None) -> Moderator | None:
    """Return the moderator a personal token belongs to, or None."""
    if not token:
        return None
    query = select(moderator.c.id, moderator.c.name).where(moderator.c.token_hash == _digest(token))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else Moderator(int(row.id), str(row.name))


def by_id(engine: Engine, moderator_id: int) -> Moderator | None:
    """Return the moderator with this id, or None when there is none (any more)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(moderator.c.id, moderator.c.name).where(moderator.c.id == moderator_id)
        ).first()
    return None if row is None else Moderator(int(row.id), str(row.name))


@cache
def _decoy_hash() -> str:
    # checked when no such moderator or PIN exists, so a wrong name costs as long as a wrong PIN
    return generate_password_hash(secrets.token_hex(8))


def _wait(conn: Connection, moderator_id: int, now: datetime) -> int:
    since = now - pin_guard.KEEP
    last_ok = conn.execute(
        select(func.max(attempt.c.at)).where(
            attempt.c.moderator_id == moderator_id, attempt.c.ok.is_(True)
        )
    ).scalar_one()
    if last_ok is not None and last_ok > since:
        since = last_ok  # a right PIN starts the count afresh
    failures, latest = conn.execute(
        select(func.count(), func.max(attempt.c.at)).where(
            attempt.c.moderator_id == moderator_id,
            attempt.c.at > since,
            attempt.c.ok.is_(False),
        )
    ).one()
    return pin_guard.backoff(int(failures), latest, now, free_tries=FREE_TRIES)


def sign_in(engine: Engine, name: str, pin_code: str, now: datetime) -> SignIn:
    """Check a moderator's PIN, slowing that PIN down after wrong ones; never say which was wrong."""
    name = " ".join(name.split())[:60]
    with engine.begin() as conn:
        query = (
            select(moderator.c.id, moderator.c.name, pin.c.pin_hash)
            .join(pin, pin.c.moderator_id == moderator.c.id)
            .where(moderator.c.name == name)
            .order_by(moderator.c.id)
        )
        row = conn.execute(query).first()
        if row is None:
            check_password_hash(_decoy_hash(), pin_code)
            return SignIn("wrong")
        wait = _wait(conn, int(row.id), now)
        if wait:
            logger.info("moderator %s: PIN refused, too many wrong ones", row.id)
            return SignIn("limited", retry_after=wait)
        ok = check_password_hash(row.pin_hash, pin_code)
        conn.execute(insert(attempt).values(moderator_id=row.id, at=now, ok=ok))
        conn.execute(delete(attempt).where(attempt.c.at < now - pin_guard.KEEP))
    if not ok:
        logger.info("moderator %s: wrong PIN", row.id)
        return SignIn("wrong")
    return SignIn("ok", Moderator(int(row.id), str(row.name)))
