"""The hub's tables (on a MetaData of their own, apart from the household's migrations) and writes.

A home is its public key and counters (the last sequence number, a rate window). What it
reported last is one row per home (`hub_report`), written whole by each report in one
statement together with the claim on the home's counters: per model one compact entry
(``model family cap,*cap-in-use,...``) and the lessons done or dismissed. Published adoption
is counted from these rows into `hub_published` by a refresh (edu.hub.aggregates, which
keeps `hub_refresh`), never at request time.
Nothing about the sender's connection is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    case,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from edu.db import UTCDateTime
from edu.hub.protocol import Message, ModelReport, ProtocolError

logger = logging.getLogger(__name__)

METADATA = MetaData()
# JSON text on SQLite, jsonb on PostgreSQL (the refresh unnests it there without a parse)
_LIST = JSON().with_variant(postgresql.JSONB(), "postgresql")

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
report = Table(
    "hub_report",
    METADATA,
    Column("home_id", Integer, ForeignKey("hub_home.id", ondelete="CASCADE"), primary_key=True),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("models", _LIST, nullable=False),  # ["model family cap,*used-cap", ...]
    Column("lessons", _LIST, nullable=False),  # ["model lesson done|dismissed", ...]
)
published = Table(
    "hub_published",
    METADATA,
    Column("model", String(80), primary_key=True),
    Column("capability", String(80), primary_key=True),
    Column("family", String(80), nullable=True),
    Column("homes", Integer, nullable=False),
    Column("using", Integer, nullable=False),
)
state = Table(
    "hub_refresh",
    METADATA,
    Column("id", Integer, primary_key=True),  # always 1
    Column("refreshed_at", UTCDateTime, nullable=True),
    Column("seconds", Float, nullable=False, default=0.0),
    Column("reports", Integer, nullable=False, default=0),
    Column("pairs", Integer, nullable=False, default=0),
)
# the previous version's tables: one row per (home, model, capability) and per lesson
LEGACY = ("hub_usage", "hub_lesson")

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
USED = "*"  # marks a capability in use inside a model's entry; never part of an id


@dataclass(frozen=True)
class Entry:
    """One model's part of a stored report, read back."""

    model: str
    family: str | None
    capabilities: tuple[str, ...]
    in_use: frozenset[str]


def entry(item: ModelReport) -> str:
    """Write one model's part of a report compactly: ``model family cap,*used-cap``."""
    used = set(item.in_use)
    caps = ",".join(USED + c if c in used else c for c in item.capabilities)
    return f"{item.model} {item.family or '-'} {caps}"


def read_entry(text: str) -> Entry:
    """Read back what entry() wrote."""
    model, family, caps = text.split(" ")
    names = caps.split(",") if caps else []
    return Entry(
        model,
        None if family == "-" else family,
        tuple(n.removeprefix(USED) for n in names),
        frozenset(n[1:] for n in names if n.startswith(USED)),
    )


def lesson_marks(models: Iterable[ModelReport]) -> list[str]:
    """Return the lessons done or dismissed as ``model lesson state`` (dismissed wins)."""
    marks = {
        (m.model, name): state
        for m in models
        for state, names in (("done", m.lessons_done), ("dismissed", m.lessons_dismissed))
        for name in names
    }
    return [f"{model} {name} {state}" for (model, name), state in sorted(marks.items())]


def create_tables(engine: Engine) -> None:
    """Create the hub's tables where missing (the hub has no household migrations).

    A database of the previous version keeps its homes, keys and tips; its per-capability
    tables are dropped (the homes' next weekly reports fill `hub_report`).
    """
    old = [name for name in LEGACY if inspect(engine).has_table(name)]
    if old:
        logger.warning(
            "hub: dropping the previous version's tables %s; each home's next report refills "
            "hub_report and the published table",
            ", ".join(old),
        )
        with engine.begin() as conn:
            for name in old:
                Table(name, MetaData()).drop(conn, checkfirst=True)
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


def _quick_claim() -> Any:
    """claim() as one UPDATE that matches only when the message may pass (the common case).

    Parameters are named apart from the columns: an execute() parameter named like a
    column would become one more SET.
    """
    now, cut = bindparam("at_now", type_=UTCDateTime), bindparam("at_cut", type_=UTCDateTime)
    fresh = or_(home.c.window_start.is_(None), home.c.window_start <= cut)
    return (
        update(home)
        .where(
            home.c.key == bindparam("by_key"),
            home.c.last_seq < bindparam("at_seq"),
            or_(fresh, home.c.window_count < bindparam("at_most")),
        )
        .values(
            last_seq=bindparam("at_seq"),
            last_report_at=now,
            window_start=case((fresh, now), else_=home.c.window_start),
            window_count=case((fresh, 1), else_=home.c.window_count + 1),
        )
        .returning(home.c.id)
    )


def _replace(insert_into: Any) -> Any:
    """Make an INSERT into hub_report replace the home's previous row instead."""
    new = insert_into.excluded
    return insert_into.on_conflict_do_update(
        index_elements=[report.c.home_id],
        set_={"reported_at": new.reported_at, "models": new.models, "lessons": new.lessons},
    )


_FIELDS = ("reported_at", "models", "lessons")


@dataclass(frozen=True)
class _Writes:
    """The statements of a report, built once per dialect (their SQL is then cached)."""

    claim: Any  # the quick claim: UPDATE hub_home ... RETURNING id
    put: Any  # the home's report row, given its home_id
    both: Any  # PostgreSQL: the claim as a CTE that the write selects from; else None


@cache
def _writes(dialect: str) -> _Writes:
    into = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(report)
    fields = {name: bindparam(f"new_{name}", type_=report.c[name].type) for name in _FIELDS}
    quick = _quick_claim()
    put = _replace(into.values(home_id=bindparam("of_home"), **fields))
    if dialect != "postgresql":
        return _Writes(quick, put, None)
    claimed = quick.cte("claimed")
    chosen = select(claimed.c.id, *(value.label(name) for name, value in fields.items()))
    both = _replace(into.from_select(["home_id", *_FIELDS], chosen))
    return _Writes(quick, put, both.returning(report.c.home_id))


@cache
def _driver_write(dialect: Any) -> tuple[str, dict[str, Any]]:
    """The SQL of the PostgreSQL claim-and-write, and its constant parameters.

    The hottest statement of the hub goes to the driver as text (still built from the
    statement above): SQLAlchemy's execution around it cost more than the statement itself.
    """
    compiled = _writes(dialect.name).both.compile(dialect=dialect)
    return str(compiled), {k: v for k, v in compiled.params.items() if v is not None}


def _claim_and_write(conn: Connection, params: dict[str, Any]) -> bool:
    """Run the PostgreSQL claim-and-write on the driver, committed as it runs."""
    from psycopg.types.json import Jsonb

    sql, constants = _driver_write(conn.dialect)
    values = constants | params
    for name in ("new_models", "new_lessons"):
        values[name] = Jsonb(values[name])
    driver = conn.execution_options(isolation_level="AUTOCOMMIT").connection.driver_connection
    assert driver is not None
    return driver.execute(sql, values).fetchone() is not None


def accept_report(engine: Engine, message: Message, now: datetime, per_hour: int) -> int:
    """Store a report in place of the home's previous one; return how many entries it holds.

    On PostgreSQL the claim and the write are one statement in autocommit: one round trip,
    no BEGIN or COMMIT. A message that does not pass the quick claim takes the full path,
    which says why.
    """
    marks = lesson_marks(message.models)
    row = {"new_reported_at": now, "new_models": [entry(m) for m in message.models]}
    row["new_lessons"] = marks
    turn = {"by_key": message.key, "at_seq": message.seq, "at_now": now}
    turn |= {"at_cut": now - RATE_WINDOW, "at_most": per_hour}
    held = sum(len(m.capabilities) for m in message.models) + len(marks)
    writes = _writes(engine.dialect.name)
    with engine.connect() as conn:
        if writes.both is not None:
            if _claim_and_write(conn, turn | row):
                return held
        else:
            with conn.begin():
                home_id = conn.execute(writes.claim, turn).scalar()
                if home_id is not None:
                    conn.execute(writes.put, {"of_home": home_id} | row)
                    return held
    with_turn(
        engine, message, now, per_hour, lambda c, h: c.execute(writes.put, {"of_home": h} | row)
    )
    return held


def with_turn(
    engine: Engine,
    message: Message,
    now: datetime,
    per_hour: int,
    write: Callable[[Connection, int], object],
) -> None:
    """Take the message's turn for its home (claim) and *write* in the same transaction; a
    refused turn is committed too (the attempt counts), then raised."""
    refused: ProtocolError | None = None
    with engine.begin() as conn:
        try:
            home_id = claim(conn, message, now, per_hour)
        except ProtocolError as exc:
            refused = exc
        else:
            write(conn, home_id)
    if refused is not None:
        raise refused


def leave(engine: Engine, message: Message, now: datetime, per_hour: int) -> None:
    """Delete a home and everything it reported (published counts drop at the next refresh)."""

    def remove(conn: Connection, home_id: int) -> None:
        conn.execute(delete(report).where(report.c.home_id == home_id))
        conn.execute(delete(home).where(home.c.id == home_id))

    with_turn(engine, message, now, per_hour, remove)


def counts(engine: Engine) -> dict[str, int]:
    """Return how many homes the hub holds, and the (model, capability) and lesson entries
    of their reports."""
    with engine.connect() as conn:
        homes = int(conn.execute(select(func.count()).select_from(home)).scalar_one())
        usage = lessons = 0
        for models, marks in conn.execute(select(report.c.models, report.c.lessons)):
            usage += sum(len(read_entry(text).capabilities) for text in models)
            lessons += len(marks)
    return {"homes": homes, "usage": usage, "lessons": lessons}
