"""The hub's published aggregates: a table counted from the homes' latest reports by a refresh.

Reading never counts: GET /hub/v1/adoption and the pages read `hub_published`, one row per
(model, capability) with its family, how many homes report it and how many use it. A
refresh recounts the table from `hub_report` in one transaction (the database counts each
distinct model entry across homes; this module spreads the entries over their capabilities),
so readers see the old table or the new one, never half. `hub_refresh` holds one row: when
the table was counted, how long it took, from how many reports. A refresh that finds that
row locked by another one (another hub process) leaves the work to it. `edu hub serve`
refreshes on a timer; a read refreshes only when the table is older than
EDU_HUB_REFRESH_SECONDS (no timer running), and `edu hub refresh` does it now.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from edu.hub.store import published, read_entry, report, state

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Adoption:
    """How many homes report a model's capability, and how many of them use it."""

    capability: str
    homes: int
    using: int


@dataclass(frozen=True)
class Refreshed:
    """What one refresh counted, and how long it took."""

    reports: int  # homes' reports counted
    entries: int  # distinct model entries the database handed over
    pairs: int  # (model, capability) rows written
    seconds: float


def _state_row(conn: Connection, *, wait: bool) -> object | None:
    """Lock the refresh row (None when another refresh holds it and *wait* is false)."""
    query = select(state).where(state.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=not wait)
    row = conn.execute(query).first()
    if row is None and not conn.execute(select(state.c.id)).first():
        try:
            with conn.begin_nested():
                conn.execute(insert(state).values(id=1, seconds=0.0, reports=0, pairs=0))
        except IntegrityError:  # another hub made it first
            pass
        row = conn.execute(query).first()
    return row


def _younger(engine: Engine, now: datetime, max_age: float) -> bool:
    with engine.connect() as conn:
        last = conn.execute(select(state.c.refreshed_at).where(state.c.id == 1)).scalar()
    return last is not None and now - last < timedelta(seconds=max_age)


def count(conn: Connection) -> tuple[dict[tuple[str, str], list[int]], dict[str, str], int, int]:
    """Count (homes, using) per (model, capability) and each model's family from hub_report."""
    unnest = "jsonb_array_elements_text" if conn.dialect.name == "postgresql" else "json_each"
    item = getattr(func, unnest)(report.c.models).table_valued("value").alias("item")
    query = (
        select(item.c.value, func.count())
        .select_from(report)
        .join(item, true())
        .group_by(item.c.value)
    )
    pairs: dict[tuple[str, str], list[int]] = {}
    families: dict[str, str] = {}
    entries = 0
    for text, homes in conn.execute(query):
        entries += 1
        found = read_entry(text)
        if found.family and found.family > families.get(found.model, ""):
            families[found.model] = found.family
        for capability in found.capabilities:
            counted = pairs.setdefault((found.model, capability), [0, 0])
            counted[0] += homes
            if capability in found.in_use:
                counted[1] += homes
    reports = int(conn.execute(select(func.count()).select_from(report)).scalar_one())
    return pairs, families, entries, reports


def refresh(
    engine: Engine, now: datetime, *, max_age: float | None = None, wait: bool = False
) -> Refreshed | None:
    """Recount the published table from the latest reports, in one transaction.

    Return None (and do nothing) when the table is younger than *max_age* seconds, or when
    another refresh is running and *wait* is false.
    """
    if max_age is not None and _younger(engine, now, max_age):
        return None  # the common case, read without a lock
    started = time.perf_counter()
    with engine.begin() as conn:
        row = _state_row(conn, wait=wait)
        if row is None:
            return None
        last = getattr(row, "refreshed_at", None)
        if max_age is not None and last is not None and now - last < timedelta(seconds=max_age):
            return None  # another refresh finished while this one waited
        pairs, families, entries, reports = count(conn)
        conn.execute(delete(published))
        if pairs:
            conn.execute(
                insert(published),
                [
                    {
                        "model": model,
                        "capability": capability,
                        "family": families.get(model),
                        "homes": homes,
                        "using": using,
                    }
                    for (model, capability), (homes, using) in sorted(pairs.items())
                ],
            )
        seconds = time.perf_counter() - started
        conn.execute(
            update(state)
            .where(state.c.id == 1)
            .values(refreshed_at=now, seconds=seconds, reports=reports, pairs=len(pairs))
        )
    logger.info(
        "hub: published table refreshed from %d reports: %d pairs in %.2f s",
        reports,
        len(pairs),
        seconds,
    )
    return Refreshed(reports, entries, len(pairs), seconds)


def last_refresh(engine: Engine) -> dict[str, object]:
    """Return when the published table was counted, how long it took, from how many reports."""
    with engine.connect() as conn:
        row = conn.execute(select(state).where(state.c.id == 1)).first()
    if row is None:
        return {"refreshed_at": None, "seconds": None, "reports": 0, "pairs": 0}
    return {
        "refreshed_at": row.refreshed_at.isoformat() if row.refreshed_at else None,
        "seconds": round(row.seconds, 3),
        "reports": row.reports,
        "pairs": row.pairs,
    }


def adoption(engine: Engine, model: str, min_homes: int) -> list[Adoption]:
    """Return the model's capabilities reported by at least *min_homes* homes."""
    query = (
        select(published.c.capability, published.c.homes, published.c.using)
        .where(published.c.model == model, published.c.homes >= min_homes)
        .order_by(published.c.capability)
    )
    with engine.connect() as conn:
        return [Adoption(r.capability, r.homes, r.using) for r in conn.execute(query)]


def published_models(engine: Engine, min_homes: int) -> list[tuple[str | None, str]]:
    """Return (family, model) of every model with at least one published capability."""
    query = (
        select(func.max(published.c.family), published.c.model)
        .where(published.c.homes >= min_homes)
        .group_by(published.c.model)
        .order_by(published.c.model)
    )
    with engine.connect() as conn:
        return [(family, model) for family, model in conn.execute(query)]


class Refresher:
    """A daemon thread that keeps the published table younger than *every* seconds."""

    def __init__(self, engine: Engine, every: float, clock: Callable[[], datetime]) -> None:
        self.engine, self.every, self.clock = engine, every, clock
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="hub-refresh", daemon=True)

    def start(self) -> Refresher:
        self.thread.start()
        return self

    def _run(self) -> None:
        # look four times a period and count when three quarters have gone, so that a
        # read (which counts only past a whole period) never has to
        while not self._stop.wait(self.every / 4):
            try:
                refresh(self.engine, self.clock(), max_age=self.every * 0.75)
            except Exception:  # a dead database must not end the timer; the next turn retries
                logger.exception("hub: refreshing the published table failed")

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=30)
