"""Record that a feature was used: an event, and the per-person summary that ranking reads."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from edu.db import key, utcnow
from edu.models import Device, FeatureUse, UsageEvent

HOW = ("state", "change", "tried")


def record_usage(
    session: Session,
    device: Device,
    capability: str,
    how: str,
    *,
    person_id: int | None = None,
    when: datetime | None = None,
    detail: str = "",
) -> UsageEvent:
    """Add a usage event and bump the summary row; the caller owns the transaction."""
    if how not in HOW:
        raise ValueError(f"unknown kind of usage {how!r}")
    when = when or utcnow()
    event = UsageEvent(
        device_id=key(device),
        capability=capability,
        how=how,
        person_id=person_id,
        detected_at=when,
        detail=detail,
    )
    session.add(event)
    person_key = person_id or 0
    summary = session.exec(
        select(FeatureUse).where(
            FeatureUse.device_id == device.id,
            FeatureUse.capability == capability,
            FeatureUse.person_key == person_key,
        )
    ).first()
    if summary is None:
        summary = FeatureUse(
            household_id=device.household_id,
            device_id=key(device),
            capability=capability,
            person_key=person_key,
            first_used=when,
            last_used=when,
        )
        session.add(summary)
    summary.uses += 1
    summary.last_used = max(summary.last_used, when)
    return event
