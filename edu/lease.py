"""The one lease of background work: a row in the database (owner, expires_at) that one process
holds at a time; whoever holds it runs the jobs, and another takes over when it runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from edu.db import utcnow
from edu.models import SchedulerLease

LEASE = "edu-worker"


def acquire_lease(
    engine: Engine, owner: str, seconds: float, *, now: datetime | None = None, name: str = LEASE
) -> bool:
    """Take or renew the lease for *seconds*; return whether *owner* holds it now."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    try:
        with Session(engine) as session, session.begin():
            result = session.execute(
                update(SchedulerLease)
                .where(col(SchedulerLease.name) == name)
                .where(
                    or_(col(SchedulerLease.owner) == owner, col(SchedulerLease.expires_at) < now)
                )
                .values(owner=owner, expires_at=until)
            )
            if getattr(result, "rowcount", 0) == 1:
                return True
            if session.get(SchedulerLease, name) is not None:
                return False
            session.add(SchedulerLease(name=name, owner=owner, acquired_at=now, expires_at=until))
        return True
    except IntegrityError:
        return False  # another worker created the row at the same moment


def release_lease(engine: Engine, owner: str, *, name: str = LEASE) -> None:
    """Give the lease up at once (on a clean stop), so another worker need not wait."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(SchedulerLease)
            .where(col(SchedulerLease.name) == name, col(SchedulerLease.owner) == owner)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def lease_holder(engine: Engine, *, now: datetime | None = None, name: str = LEASE) -> str | None:
    """Return the owner of an unexpired lease, or None."""
    now = now or utcnow()
    with Session(engine) as session:
        row = session.get(SchedulerLease, name)
        return row.owner if row is not None and row.expires_at > now else None
