"""Tables for periodic tips: policy, mutes, channels, the delivery ledger, the inbox, the lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from edu.db import UTCDateTime, utcnow
from edu.tips import policy as rules

INBOX = "inbox"
DELIVERY_STATES = ("sending", "sent", "retry", "failed", "cancelled")


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)  # type: ignore[call-overload]


class TipPolicy(SQLModel, table=True):
    """A person's tip settings; a person without a row gets the defaults."""

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    cadence: str = "daily"  # "daily" | "weekly" | "off"
    weekday: int = 0  # 0 = Monday, for a weekly cadence
    at: str = "10:00"  # preferred local time of day
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    daily_cap: int = 1
    weekly_cap: int = 3
    snooze_until: datetime | None = _when(default=None)
    unsubscribed_at: datetime | None = _when(default=None)
    updated_at: datetime = _when(default_factory=utcnow)


def policy_of(row: TipPolicy | None) -> rules.Policy:
    """Return the policy a stored row says (the defaults when there is no row)."""
    if row is None:
        return rules.Policy()
    return rules.Policy(
        cadence=row.cadence,
        weekday=row.weekday,
        at=rules.parse_clock(row.at),
        quiet_start=rules.parse_clock(row.quiet_start),
        quiet_end=rules.parse_clock(row.quiet_end),
        daily_cap=row.daily_cap,
        weekly_cap=row.weekly_cap,
        snooze_until=row.snooze_until,
        unsubscribed=row.unsubscribed_at is not None,
    )


class TipMute(SQLModel, table=True):
    """A device a person wants no tips about."""

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    device_id: int = Field(foreign_key="device.id", primary_key=True, ondelete="CASCADE")


class TipChannel(SQLModel, table=True):
    """An Apprise URL a person receives tips on; the URL is encrypted, only a redacted label shows."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    url_ciphertext: str = Field(repr=False)
    fingerprint: str = Field(repr=False)  # keyed hash of the URL, to refuse duplicates
    label: str  # the URL with its secrets masked
    kind: str  # the Apprise service name (Email, JSON, MQTT ...)
    enabled: bool = True
    created_at: datetime = _when(default_factory=utcnow)
    last_test_at: datetime | None = _when(default=None)
    last_test_ok: bool | None = None


class TipDelivery(SQLModel, table=True):
    """The ledger: one row per (person, lesson, channel), written before sending.

    ``channel`` is ``"inbox"`` or ``"channel:<id>"``. A row is ``sending`` while a run owns
    it (``claimed_until``); ``sent`` after the channel accepted it; ``retry`` with a
    ``next_attempt_at`` after a failure; ``failed`` when the retries ran out; ``cancelled``
    when its channel was removed or unsubscribed before it went out.
    """

    __table_args__ = (
        UniqueConstraint("person_id", "lesson", "channel", name="uq_tipdelivery_key"),
        Index("ix_tipdelivery_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    lesson: str
    channel: str
    channel_id: int | None = Field(default=None, foreign_key="tipchannel.id", ondelete="SET NULL")
    status: str = "sending"
    attempts: int = 0
    idempotency_key: str = ""
    device_did: int | None = Field(default=None, sa_type=BigInteger)
    title: str = ""
    summary: str = ""
    link: str = ""
    created_at: datetime = _when(default_factory=utcnow)
    claimed_by: str | None = None
    claimed_until: datetime | None = _when(default=None)
    next_attempt_at: datetime | None = _when(default=None)
    sent_at: datetime | None = _when(default=None)
    last_error: str = ""


class InboxItem(SQLModel, table=True):
    """A tip in the person's in-app inbox; one per (person, lesson), the tip itself."""

    __table_args__ = (
        UniqueConstraint("person_id", "lesson", name="uq_inboxitem_person_lesson"),
        Index("ix_inboxitem_person_created", "person_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    lesson: str
    capability: str = ""
    device_did: int | None = Field(default=None, sa_type=BigInteger)
    device_name: str = ""
    title: str
    summary: str
    link: str = ""
    reason: str = ""
    created_at: datetime = _when(default_factory=utcnow)
    read_at: datetime | None = _when(default=None)
