"""The hub's tables (on a MetaData of their own, apart from the household's migrations) and queries.

A home is its public key and counters (the last sequence number, a rate window); what it
reported is one row per (model, capability) with whether it is in use, and one per lesson
done or dismissed, replaced whole by each report. Adoption is counted from those rows at
request time; nothing about the sender's connection is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from edu.db import UTCDateTime
from edu.hub.protocol import Message, ProtocolError

logger = logging.getLogger(__name__)

METADATA = MetaData()

home = Table(
    "hub_home",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("last_seq", BigInteger, nullable=False, default=0),
    Column("last_report_at", UTCDateTime, nullable=True),
    Column("window_start", UTCDateTime, nullable=True),
    Column("window_count", Integer, nullable=False, default=0),
)
usage = Table(
    "hub_usage",
    METADATA,
    Column("home_id", Integer, ForeignKey("hub_home.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(80), primary_key=True),
    Column("capability", String(80), primary_key=True),
    Column("family", String(80), nullable=True),
    Column("in_use", Boolean, nullable=False),
    Index("ix_hub_usage_model_capability", "model", "capability"),
)
lesson = Table(
    "hub_lesson",
    METADATA,
    Column("home_id", Integer, ForeignKey("hub_home.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(80), primary_key=True),
    Column("lesson", String(80), primary_key=True),
    Column("state", String(16), nullable=False),  # done | dismissed
)

tip = Table(
    "hub_tip",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("home_id", Integer, ForeignKey("hub_home.id", ondelete="CASCADE"), index=True),
    Column("model", String(80), nullable=False),
    Column("lesson", String(80), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("reason", String(300), nullable=False, default=""),
    Column("flags", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=True),
)
flag = Table(
    "hub_tip_flag",
    METADATA,
    Column("tip_id", Integer, ForeignKey("hub_tip.id", ondelete="CASCADE"), primary_key=True),
    Column("home_id", Integer, ForeignKey("hub_home.id", ondelete="CASCADE"), primary_key=True),
)
moderator = Table(
    "hub_moderator",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False),
    Column("token_hash", String(64), nullable=False),
    UniqueConstraint("token_hash"),
)

RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Adoption:
    """How many homes report a model's capability, and how many of them use it."""

    capability: str
    homes: int
    using: int


def create_tables(engine: Engine) -> None:
    """Create the hub's tables where missing (the hub has no household migrations)."""
    METADATA.create_all(engine)


def join(engine: Engine, message: Message, now: datetime) -> bool:
    """Register a home's key; return False when it had joined already."""
    with engine.begin() as conn:
        if conn.execute(select(home.c.id).where(home.c.key == message.key)).first():
            return False
        conn.execute(
            insert(home).values(
                key=message.key, joined_at=now, last_seq=message.seq, window_count=0
            )
        )
    return True


def claim(conn: Connection, message: Message, now: datetime, per_hour: int) -> int:
    """Take the message's turn for its home: rate window and sequence; return the home id."""
    query = select(home).where(home.c.key == message.key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise ProtocolError("not-joined", "this key has not joined the hub (or has left)", 401)
    start, count = row.window_start, row.window_count
    if start is None or now - start >= RATE_WINDOW:
        start, count = now, 0
    if count >= per_hour:
        raise ProtocolError("rate-limited", f"at most {per_hour} messages an hour per home", 429)
    if message.seq <= row.last_seq:
        # counted, so that replaying old messages cannot be done for free either
        conn.execute(
            update(home)
            .where(home.c.id == row.id)
            .values(window_start=start, window_count=count + 1)
        )
        raise ProtocolError("replayed", "this sequence number was used already", 409)
    conn.execute(
        update(home)
        .where(home.c.id == row.id)
        .values(
            last_seq=message.seq, last_report_at=now, window_start=start, window_count=count + 1
        )
    )
    return int(row.id)


def accept_report(engine: Engine, message: Message, now: datetime, per_hour: int) -> int:
    """Store a report in place of the home's previous one; return how many rows it holds."""
    refused: ProtocolError | None = None
    with engine.begin() as conn:
        try:
            home_id = claim(conn, message, now, per_hour)
        except ProtocolError as exc:
            refused = exc  # commit the counted attempt, then refuse
        else:
            conn.execute(delete(usage).where(usage.c.home_id == home_id))
            conn.execute(delete(lesson).where(lesson.c.home_id == home_id))
            uses = [
                {
                    "home_id": home_id,
                    "model": m.model,
                    "family": m.family,
                    "capability": c,
                    "in_use": c in m.in_use,
                }
                for m in message.models
                for c in m.capabilities
            ]
            marks = {
                (m.model, name): state
                for m in message.models
                for state, names in (("done", m.lessons_done), ("dismissed", m.lessons_dismissed))
                for name in names
            }
            if uses:
                conn.execute(insert(usage), uses)
            if marks:
                conn.execute(
                    insert(lesson),
                    [
                        {"home_id": home_id, "model": mo, "lesson": le, "state": st}
                        for (mo, le), st in marks.items()
                    ],
                )
    if refused is not None:
        raise refused
    return len(uses) + len(marks)


def leave(engine: Engine, message: Message, now: datetime, per_hour: int) -> None:
    """Delete a home and everything it reported."""
    refused: ProtocolError | None = None
    with engine.begin() as conn:
        try:
            home_id = claim(conn, message, now, per_hour)
        except ProtocolError as exc:
            refused = exc
        else:
            conn.execute(delete(usage).where(usage.c.home_id == home_id))
            conn.execute(delete(lesson).where(lesson.c.home_id == home_id))
            conn.execute(delete(home).where(home.c.id == home_id))
    if refused is not None:
        raise refused


def adoption(engine: Engine, model: str, min_homes: int) -> list[Adoption]:
    """Return the model's capabilities reported by at least *min_homes* homes."""
    homes = func.count()
    using = func.sum(case((usage.c.in_use, 1), else_=0))
    query = (
        select(usage.c.capability, homes.label("homes"), using.label("in_use_homes"))
        .where(usage.c.model == model)
        .group_by(usage.c.capability)
        .having(homes >= min_homes)
        .order_by(usage.c.capability)
    )
    with engine.connect() as conn:
        return [
            Adoption(r.capability, int(r.homes), int(r.in_use_homes or 0))
            for r in conn.execute(query)
        ]


def published_models(engine: Engine, min_homes: int) -> list[tuple[str | None, str]]:
    """Return (family, model) of every model with at least one published capability."""
    per_pair = (
        select(usage.c.model, usage.c.capability, func.max(usage.c.family).label("family"))
        .group_by(usage.c.model, usage.c.capability)
        .having(func.count() >= min_homes)
        .subquery()
    )
    query = (
        select(func.max(per_pair.c.family), per_pair.c.model)
        .group_by(per_pair.c.model)
        .order_by(per_pair.c.model)
    )
    with engine.connect() as conn:
        return [(family, model) for family, model in conn.execute(query)]


def counts(engine: Engine) -> dict[str, int]:
    """Return how many homes, usage rows and lesson rows the hub holds."""
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in (("homes", home), ("usage", usage), ("lessons", lesson))
        }
