"""Tables the web page and "try it now" need: API tokens, sign-in attempts, pending reverts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from edu.db import UTCDateTime, utcnow


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)  # type: ignore[call-overload]


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

    __table_args__ = (Index("ix_login_attempt_person_at", "person_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    at: datetime = _when(default_factory=utcnow)
    ok: bool = False


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
