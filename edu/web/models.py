"""Tables the web page needs: API tokens and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
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

    __table_args__ = (
        Index("ix_login_attempt_person_at", "person_id", "at"),
        Index("ix_login_attempt_person_client_at", "person_id", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    at: datetime = _when(default_factory=utcnow)
    ok: bool = False
    client: str = Field(default="", max_length=64)  # the remote address the PIN came from
