"""SQLModel tables: households, people, devices, their capabilities, snapshots, usage, sign-ins
and the background jobs' lease and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from edu.db import UTCDateTime, utcnow

DEVICE_STATUSES = ("new", "online", "offline", "auth-failed", "unsupported", "error")


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)  # type: ignore[call-overload]


class Household(SQLModel, table=True):
    """A home or a shop: the devices and the people who use them."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    kind: str = "home"  # "home" | "store"
    timezone: str = "UTC"
    language: str = "en"
    # bumped (by edu.revisions) whenever something a page or a recommendation shows changes
    revision: int = 0
    # bumped (by edu.revisions) whenever a device's capabilities change
    features_revision: int = 0
    created_at: datetime = _when(default_factory=utcnow)


class Device(SQLModel, table=True):
    """One Xiaomi device, known by its device id (did) and MAC, never by its IP."""

    __table_args__ = (UniqueConstraint("household_id", "did"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    did: int = Field(sa_type=BigInteger, index=True)  # miIO ids are unsigned 32-bit
    mac: str | None = Field(default=None, index=True)
    ip: str
    name: str = ""
    model: str | None = None
    family: str | None = None
    implementation: str | None = None
    firmware: str | None = None
    hardware: str | None = None
    status: str = "new"
    status_detail: str = ""
    token_ciphertext: str | None = Field(default=None, repr=False)
    token_source: str | None = None  # "hello" | "manual" | "import"
    discovered_via: str | None = None
    consecutive_failures: int = 0
    last_snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    first_seen: datetime = _when(default_factory=utcnow)
    last_seen: datetime | None = _when(default=None)
    last_polled: datetime | None = _when(default=None)
    next_poll: datetime | None = _when(default=None)

    @property
    def token_known(self) -> bool:
        return self.token_ciphertext is not None

    @property
    def display_name(self) -> str:
        return self.name or self.model or f"device {self.did}"


class DeviceCapability(SQLModel, table=True):
    """A capability a device has (vocabulary id), or a descriptor with no mapping yet."""

    __table_args__ = (UniqueConstraint("device_id", "capability"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True, ondelete="CASCADE")
    capability: str  # a vocabulary id, or the descriptor id when unmapped
    mapped: bool = True
    setting: str | None = None  # descriptor that writes it
    action: str | None = None  # descriptor that triggers it
    method: str | None = None  # method of the python-miio class that writes or runs it
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    in_use: bool = False
    last_used: datetime | None = _when(default=None)


class StatusSnapshot(SQLModel, table=True):
    """A device's status as read by a poll; stored when it differs from the last one."""

    __table_args__ = (Index("ix_snapshot_device_taken", "device_id", "taken_at"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    taken_at: datetime = _when(default_factory=utcnow)
    data: dict[str, Any] = Field(sa_column=Column(JSON))


class UsageEvent(SQLModel, table=True):
    """Evidence that a feature was used: a detector rule held, a setting changed, a try."""

    __table_args__ = (Index("ix_usage_device_capability", "device_id", "capability", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    capability: str
    how: str  # "state" | "change" | "tried"
    person_id: int | None = Field(default=None, index=True)
    detected_at: datetime = _when(default_factory=utcnow)
    detail: str = ""


class OwnWrite(SQLModel, table=True):
    """A setting Feature Coach itself wrote, so a poll does not count it as the household's use."""

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True, ondelete="CASCADE")
    key: str  # the status key or descriptor id that was written
    value: Any = Field(default=None, sa_column=Column(JSON))
    written_at: datetime = _when(default_factory=utcnow)
    consumed: bool = False


class Person(SQLModel, table=True):
    """Someone in the household (or shop staff); signs in with a PIN."""

    __table_args__ = (UniqueConstraint("household_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    name: str
    role: str = "member"  # "admin" | "member" | "staff"
    pin_hash: str | None = Field(default=None, repr=False)
    language: str = "en"
    uses_all_devices: bool = True
    created_at: datetime = _when(default_factory=utcnow)


class PersonDevice(SQLModel, table=True):
    """A device a person uses, when they do not use all of the household's devices."""

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    device_id: int = Field(foreign_key="device.id", primary_key=True, ondelete="CASCADE")


class LessonProgress(SQLModel, table=True):
    """What a person did with a lesson: learned it, dismissed it, or snoozed it until a time."""

    __table_args__ = (UniqueConstraint("person_id", "lesson"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    lesson: str
    capability: str
    state: str  # "done" | "dismissed" | "snoozed"
    until: datetime | None = _when(default=None)
    updated_at: datetime = _when(default_factory=utcnow)


class FeatureUse(SQLModel, table=True):
    """Who has used which feature of which device: the usage events, summed up.

    ``person_key`` is the person's id for a use attributed to one person (a "try it now"),
    and 0 for evidence from the device itself, which counts for everyone who uses it.
    """

    __table_args__ = (UniqueConstraint("device_id", "capability", "person_key"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    capability: str
    person_key: int = 0
    first_used: datetime = _when(default_factory=utcnow)
    last_used: datetime = _when(default_factory=utcnow)
    uses: int = 0


class PendingRevert(SQLModel, table=True):
    """A setting "try it now" changed, and the value to put back when it is due."""

    __table_args__ = (Index("ix_pending_revert_due", "done", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True, ondelete="CASCADE")
    person_id: int | None = Field(default=None)
    lesson: str = ""
    capability: str
    key: str = ""  # the snapshot key the previous value was read from
    value: Any = Field(default=None, sa_column=Column(JSON))
    due_at: datetime = _when(default_factory=utcnow)
    created_at: datetime = _when(default_factory=utcnow)
    done: bool = False
    attempts: int = 0
    last_error: str = ""


class ApiToken(SQLModel, table=True):
    """A person's token for the JSON API; only its SHA-256 digest is stored."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    name: str = ""
    digest: str = Field(index=True, unique=True, repr=False)
    hint: str = ""  # the last four characters, so a person can tell tokens apart
    created_at: datetime = _when(default_factory=utcnow)
    last_used: datetime | None = _when(default=None)


class LoginAttempt(SQLModel, table=True):
    """One PIN entered for a profile, right or wrong: the sign-in rate limit counts these."""

    __table_args__ = (
        Index("ix_login_attempt_person_at", "person_id", "at"),
        Index("ix_login_attempt_person_client_at", "person_id", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    at: datetime = _when(default_factory=utcnow)
    ok: bool = False
    client: str = Field(default="", max_length=64)  # the remote address the PIN came from


class SchedulerLease(SQLModel, table=True):
    """Who may run the scheduled jobs, until when; a second worker waits for it to expire."""

    name: str = Field(primary_key=True)
    owner: str
    acquired_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime = _when(default_factory=utcnow)


class SchedulerRun(SQLModel, table=True):
    """One run of a scheduled job: which worker ran it, when, and how it went."""

    __table_args__ = (Index("ix_schedulerrun_job_started", "job", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str
    owner: str
    started_at: datetime = _when(default_factory=utcnow)
    finished_at: datetime | None = _when(default=None)
    ok: bool | None = None
    detail: str = ""
