"""Tables of the store demo: each device's normal settings, demo runs, steps, kiosk reads, staff log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, Session, SQLModel, col, select

from edu.db import UTCDateTime, utcnow

DEVICE_STATES = ("ready", "in-demo", "flagged")
END_REASONS = ("ended", "reset", "reset-all", "timeout")


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)  # type: ignore[call-overload]


class DemoDevice(SQLModel, table=True):
    """A device on the demo table: its normal settings and whether it is back to them.

    ``snapshot`` is taken before the first step of a demo and kept until the device reads
    back equal to it; a device that could not be put back stays ``flagged`` and keeps the
    old snapshot, so the next demo never mistakes a half-restored state for the normal one.
    Its shape: ``{"settings": {key: {"capability": c, "value": v}}, "capabilities": {c: key},
    "actions": [c, ...]}``; ``actions`` are the actions shown that a restore must still undo
    (`edu.store.undo`), the latest last.
    """

    __tablename__ = "demo_device"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", unique=True, ondelete="CASCADE")
    state: str = "ready"  # ready | in-demo | flagged
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    snapshot_at: datetime | None = _when(default=None)
    session_id: int | None = None  # the running demo, if any
    last_reset: datetime | None = _when(default=None)
    problem: str = ""  # plain words, for the board, when flagged
    problems: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))


class DemoSession(SQLModel, table=True):
    """One guided demo of one device, from the snapshot to the restore."""

    __tablename__ = "demo_session"
    __table_args__ = (Index("ix_demo_session_device_started", "device_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    started_at: datetime = _when(default_factory=utcnow)
    last_activity: datetime = _when(default_factory=utcnow)
    ended_at: datetime | None = _when(default=None)
    end_reason: str = ""  # ended | reset | reset-all | timeout
    restored: bool | None = None
    sale_intent: bool = False  # staff ended it with "the customer wants to buy"


class DemoStep(SQLModel, table=True):
    """A feature shown on a device during a demo ("show it", or "show it again")."""

    __tablename__ = "demo_step"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="demo_session.id", index=True, ondelete="CASCADE")
    device_id: int = Field(foreign_key="device.id", index=True, ondelete="CASCADE")
    lesson: str
    capability: str
    status: str  # a TryOutcome status: changed | already | done | unconfirmed | failed
    again: bool = False  # the customer asked to see it again
    shown_at: datetime = _when(default_factory=utcnow)


class KioskView(SQLModel, table=True):
    """A customer tapped a feature on the kiosk to read about it."""

    __tablename__ = "demo_kiosk_view"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    device_id: int = Field(foreign_key="device.id", index=True, ondelete="CASCADE")
    lesson: str
    capability: str
    viewed_at: datetime = _when(default_factory=utcnow)


class StaffAction(SQLModel, table=True):
    """Who did what on the demo table, and when (never a PIN or a token)."""

    __tablename__ = "demo_staff_action"
    __table_args__ = (Index("ix_demo_staff_action_household_at", "household_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id")
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    who: str  # the person's name then, or "system" for the inactivity timeout
    action: str
    device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="SET NULL")
    detail: str = ""
    at: datetime = _when(default_factory=utcnow)


# -- small queries over these tables -----------------------------------------------------


def running(session: Session, device_id: int) -> DemoSession | None:
    """Return the demo running on a device, if any."""
    return session.exec(
        select(DemoSession).where(
            DemoSession.device_id == device_id, col(DemoSession.ended_at).is_(None)
        )
    ).first()


def demo_device(session: Session, device_id: int) -> DemoDevice | None:
    """Return the demo record of a device (None before its first demo)."""
    return session.exec(select(DemoDevice).where(DemoDevice.device_id == device_id)).first()


def restorable(session: Session, device_id: int) -> set[str] | None:
    """Return the capabilities the device's snapshot can put back (None: no snapshot yet)."""
    row = demo_device(session, device_id)
    if row is None or row.snapshot is None:
        return None
    return set(row.snapshot.get("capabilities", {}))
