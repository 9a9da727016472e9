"""The in-app inbox: a person's tips, the unread count, marking read, and failed deliveries.

Query helpers: they take a session and never commit (the caller's unit of work does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from edu.db import utcnow
from edu.models import Person
from edu.tips.models import INBOX, InboxItem, TipChannel, TipDelivery


def _labels(session: Session, person: Person) -> dict[int | None, str]:
    rows = session.exec(select(TipChannel).where(col(TipChannel.person_id) == person.id))
    return {c.id: c.label for c in rows}


def inbox(
    session: Session, person: Person, *, limit: int = 50, unread_only: bool = False
) -> list[dict[str, Any]]:
    """Return the person's tips, newest first, with how each channel fared."""
    query = select(InboxItem).where(col(InboxItem.person_id) == person.id)
    if unread_only:
        query = query.where(col(InboxItem.read_at).is_(None))
    newest = (col(InboxItem.created_at).desc(), col(InboxItem.id).desc())
    items = session.exec(query.order_by(*newest).limit(limit)).all()
    statuses: dict[str, dict[str, str]] = {item.lesson: {} for item in items}
    if items:
        labels = _labels(session, person)
        rows = session.exec(
            select(TipDelivery).where(
                col(TipDelivery.person_id) == person.id,
                col(TipDelivery.lesson).in_(list(statuses)),
            )
        )
        for row in rows:
            name = INBOX if row.channel == INBOX else labels.get(row.channel_id, "removed channel")
            statuses[row.lesson][name] = row.status
    return [
        {
            "id": item.id,
            "lesson": item.lesson,
            "title": item.title,
            "summary": item.summary,
            "link": item.link,
            "device": item.device_did,
            "device_name": item.device_name,
            "reason": item.reason,
            "created_at": item.created_at.isoformat(),
            "read": item.read_at is not None,
            "channels": statuses[item.lesson],
        }
        for item in items
    ]


def unread_count(session: Session, person: Person) -> int:
    """Return how many tips in the person's inbox are unread (for the page header)."""
    query = (
        select(func.count())
        .select_from(InboxItem)
        .where(col(InboxItem.person_id) == person.id, col(InboxItem.read_at).is_(None))
    )
    return int(session.exec(query).one())


def mark_read(
    session: Session, person: Person, item_id: int | None = None, *, now: datetime | None = None
) -> int:
    """Mark one inbox item (or all of them) read; return how many changed."""
    query = update(InboxItem).where(
        col(InboxItem.person_id) == person.id, col(InboxItem.read_at).is_(None)
    )
    if item_id is not None:
        query = query.where(col(InboxItem.id) == item_id)
    result: Any = session.execute(query.values(read_at=now or utcnow()))
    return int(result.rowcount)


def failed_deliveries(session: Session, person: Person) -> list[dict[str, Any]]:
    """Return the person's deliveries that failed for good (the settings page shows them)."""
    rows = session.exec(
        select(TipDelivery)
        .where(col(TipDelivery.person_id) == person.id, col(TipDelivery.status) == "failed")
        .order_by(col(TipDelivery.created_at).desc())
    ).all()
    labels = _labels(session, person)
    return [
        {
            "lesson": r.lesson,
            "title": r.title,
            "channel": labels.get(r.channel_id, "removed channel"),
            "attempts": r.attempts,
            "error": r.last_error,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
