"""How fast PINs may be guessed: a back-off per client and profile, a profile lock only for a crowd.

Whoever reaches the sign-in page must not be able to keep a person out: wrong PINs slow down
the client (remote address) that typed them, for that profile only. Only many wrong PINs from
many clients (a crowd, or one guesser hopping addresses) lock the profile itself for a while.
The admin sees recent wrong PINs on their page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete, select

from edu.models import Household, LoginAttempt, Person

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)  # wrong PINs older than this no longer count
FIRST_WAIT = timedelta(seconds=30)  # after the free tries; doubles with each wrong PIN after
LONGEST_WAIT = timedelta(minutes=15)
CROWD_FAILURES = 30  # this many wrong PINs for one profile in the window ...
CROWD_CLIENTS = 5  # ... from at least this many clients lock the profile
CROWD_LOCK = timedelta(minutes=15)  # counted from the last wrong PIN
KEEP = timedelta(days=1)  # how long attempts are kept (the admin's notice reads them)


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def backoff(failures: int, latest: datetime | None, now: datetime, *, free_tries: int) -> int:
    """Return the seconds left to wait after *failures* wrong PINs, the last at *latest* (0: none).

    The first *free_tries* cost nothing; then the wait starts at FIRST_WAIT and doubles with
    each wrong PIN, up to LONGEST_WAIT. The hub's moderator sign-in counts the same way.
    """
    if failures < free_tries or latest is None:
        return 0
    pause = min(FIRST_WAIT * (2 ** min(failures - free_tries, 16)), LONGEST_WAIT)
    return _seconds(latest + pause - now) if latest + pause > now else 0


def wait_for(
    session: Session, person_id: int, client: str, now: datetime, *, free_tries: int
) -> int:
    """Return how many seconds *client* must wait before its next PIN for the profile (0: none)."""
    since = now - WINDOW
    last_ok = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.person_id == person_id,
            LoginAttempt.client == client,
            col(LoginAttempt.ok).is_(True),
        )
    ).one()
    if last_ok is not None and last_ok > since:
        since = last_ok  # a right PIN from this client starts it afresh
    mine = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.person_id == person_id,
            LoginAttempt.client == client,
            LoginAttempt.at > since,
            col(LoginAttempt.ok).is_(False),
        )
    ).one()
    waits = [backoff(int(mine[0]), mine[1], now, free_tries=free_tries)]
    crowd = session.exec(
        select(
            func.count(), func.count(func.distinct(LoginAttempt.client)), func.max(LoginAttempt.at)
        ).where(
            LoginAttempt.person_id == person_id,
            LoginAttempt.at > now - WINDOW,
            col(LoginAttempt.ok).is_(False),
        )
    ).one()
    crowded = int(crowd[0]) >= CROWD_FAILURES and int(crowd[1]) >= CROWD_CLIENTS
    if crowded and crowd[2] is not None and crowd[2] + CROWD_LOCK > now:
        logger.warning("profile %s locked: wrong PINs from %s clients", person_id, crowd[1])
        waits.append(_seconds(crowd[2] + CROWD_LOCK - now))
    return max(waits)


def record(session: Session, person_id: int, client: str, ok: bool, now: datetime) -> None:
    """Count one PIN for the profile from *client*; forget attempts older than a day."""
    session.add(LoginAttempt(person_id=person_id, client=client[:64], at=now, ok=ok))  # type: ignore[arg-type]
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - KEEP))  # type: ignore[call-overload]


@dataclass(frozen=True)
class WrongPins:
    """Wrong PINs for one person in the last day: how many, from how many clients, the last."""

    name: str
    failures: int
    clients: int
    last: datetime
    first: datetime  # the oldest in the day: the list changes when it is a day old


def wrong_pins_change_at(rows: list[WrongPins]) -> datetime | None:
    """The moment the clock alone changes the list: its oldest wrong PIN leaves the day."""
    oldest = min((row.first for row in rows), default=None)
    return oldest + KEEP if oldest is not None else None


def recent_wrong_pins(session: Session, household: Household, now: datetime) -> list[WrongPins]:
    """Return the household's profiles that had wrong PINs in the last day, most first."""
    rows = session.execute(
        sa_select(
            col(Person.name),
            func.count(),
            func.count(func.distinct(LoginAttempt.client)),
            func.max(LoginAttempt.at),
            func.min(LoginAttempt.at),
        )
        .join(Person, col(Person.id) == col(LoginAttempt.person_id))
        .where(
            col(Person.household_id) == household.id,
            col(LoginAttempt.ok).is_(False),
            col(LoginAttempt.at) > now - KEEP,
        )
        .group_by(Person.name)
        .order_by(func.count().desc(), Person.name)
    ).all()
    return [WrongPins(name, int(n), int(c), last, first) for name, n, c, last, first in rows]
