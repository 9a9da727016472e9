"""The delivery ledger at work: send the rows a run claimed, retry with backoff, recover after a crash.

A ledger row is committed as ``sending`` (with the run that claimed it and a claim expiry)
before anything goes out, and marked ``sent``, ``retry`` or ``failed`` right after, one row
per transaction. A crash between the two leaves it ``sending``; once its claim expires, a
later run sends it again with the same idempotency key, so a receiver that honours the
key (the JSON, XML and form webhooks and email carry it as a header) keeps one copy. The
inbox never reaches this module: its row and its item commit together.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from edu.config import Settings
from edu.models import Household, Person
from edu.tips import policy as rules
from edu.tips.channels import ChannelError, ChannelVault, TipMessage, send
from edu.tips.links import LinkMaker
from edu.tips.models import TipChannel, TipDelivery, TipPolicy, policy_of

logger = logging.getLogger(__name__)

CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    """What happened to one ledger row in this run."""

    id: int
    person_id: int
    lesson: str
    channel: str  # the masked label
    status: str  # sent | retry | failed | cancelled
    attempts: int
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def claim_due(
    engine: Engine, run_id: str, when: rules.RunTime, *, after: int = 0, limit: int = 500
) -> tuple[list[int], int | None]:
    """Claim ledger rows due for a retry and rows a crashed run left ``sending``.

    Rows whose person is in quiet hours (or snoozed) wait for a later run. A row that used
    up its attempts is marked failed instead. Looks at rows with an id above *after*; returns
    the ids this run now owns and the last id looked at (None when there was nothing left).
    """
    claimed: list[int] = []
    last: int | None = None
    with Session(engine) as session, session.begin():
        # A generous UTC window: a naive *now* is local time, up to 14 hours either way.
        horizon = when.as_utc + timedelta(hours=15)
        retry_due = and_(
            col(TipDelivery.status) == "retry", col(TipDelivery.next_attempt_at) <= horizon
        )
        abandoned = and_(
            col(TipDelivery.status) == "sending", col(TipDelivery.claimed_until) <= horizon
        )
        rows = session.exec(
            select(TipDelivery, Household, TipPolicy)
            .join(Person, col(TipDelivery.person_id) == col(Person.id))
            .join(Household, col(Person.household_id) == col(Household.id))
            .outerjoin(TipPolicy, col(TipPolicy.person_id) == col(Person.id))
            .where(col(TipDelivery.id) > after, or_(retry_due, abandoned))
            .order_by(col(TipDelivery.id))
            .limit(limit)
        ).all()
        for row, household, policy_row in rows:
            assert row.id is not None
            last = row.id
            local, at = when.at(household.timezone)
            due_at = row.next_attempt_at if row.status == "retry" else row.claimed_until
            if due_at is None or due_at > at:
                continue
            if not rules.may_deliver_now(policy_of(policy_row), local):
                continue
            values: dict[str, Any] = {"claimed_by": run_id, "claimed_until": at + CLAIM}
            values.update(status="sending", attempts=row.attempts + 1)
            if row.attempts >= rules.MAX_ATTEMPTS:
                error = row.last_error or "gave up after a crash while sending"
                values = {"status": "failed", "claimed_by": None, "claimed_until": None}
                values["last_error"] = error
            # Conditional on the state we read: a second worker claiming the same row loses.
            result = session.execute(
                update(TipDelivery)
                .where(
                    col(TipDelivery.id) == row.id,
                    col(TipDelivery.status) == row.status,
                    col(TipDelivery.attempts) == row.attempts,
                )
                .values(**values)
            )
            if _rowcount(result) == 1 and values["status"] == "sending":
                claimed.append(row.id)
    return claimed, last


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def send_claimed(
    engine: Engine,
    settings: Settings,
    run_id: str,
    when: rules.RunTime,
    ids: list[int] | None = None,
) -> list[Outcome]:
    """Send every row this run claimed (or the given ones), marking each as soon as it is done."""
    with Session(engine, expire_on_commit=False) as session:
        query = (
            sa_select(TipDelivery, TipChannel, Person, Household, TipPolicy)
            .outerjoin(TipChannel, col(TipDelivery.channel_id) == col(TipChannel.id))
            .join(Person, col(TipDelivery.person_id) == col(Person.id))
            .join(Household, col(Person.household_id) == col(Household.id))
            .outerjoin(TipPolicy, col(TipPolicy.person_id) == col(Person.id))
            .where(col(TipDelivery.claimed_by) == run_id, col(TipDelivery.status) == "sending")
            .order_by(col(TipDelivery.id))
        )
        if ids is not None:
            query = query.where(col(TipDelivery.id).in_(ids))
        rows = session.execute(query).all()
    if not rows:
        return []
    vault = ChannelVault(settings)
    links = LinkMaker(settings)
    urls: dict[int, str] = {}
    outcomes = []
    for row, channel, person, household, policy_row in rows:
        _, at = when.at(household.timezone)
        if channel is None or channel.id is None or person.id is None:
            outcomes.append(
                _mark(
                    engine,
                    run_id,
                    row,
                    "cancelled",
                    at,
                    "removed channel",
                    "the channel was removed",
                )
            )
            continue
        label = channel.label
        if not channel.enabled or (policy_row is not None and policy_row.unsubscribed_at):
            outcomes.append(
                _mark(engine, run_id, row, "cancelled", at, label, "the channel is off")
            )
            continue
        try:
            url = urls.get(channel.id) or vault.decrypt(channel.url_ciphertext)
        except ChannelError as exc:
            outcomes.append(_mark(engine, run_id, row, "failed", at, label, str(exc)))
            continue
        urls[channel.id] = url
        message = TipMessage(
            title=row.title,
            summary=row.summary,
            link=row.link,
            unsubscribe=links.unsubscribe(person.id, channel.id),
            idempotency_key=row.idempotency_key,
            lang=person.language,
        )
        result = send(url, message)
        if result.ok:
            outcomes.append(_mark(engine, run_id, row, "sent", at, label))
            continue
        delay = rules.retry_delay(row.attempts)
        status = "retry" if delay is not None else "failed"
        logger.warning(
            "tip %s to channel #%s failed (attempt %d): %s",
            row.lesson,
            channel.id,
            row.attempts,
            result.error,
        )
        outcomes.append(_mark(engine, run_id, row, status, at, label, result.error, delay))
    return outcomes


def _mark(
    engine: Engine,
    run_id: str,
    row: TipDelivery,
    status: str,
    at: datetime,
    label: str,
    error: str = "",
    delay: timedelta | None = None,
) -> Outcome:
    values: dict[str, Any] = {
        "status": status,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": error,
    }
    if status == "sent":
        values["sent_at"] = at
    if status == "retry" and delay is not None:
        values["next_attempt_at"] = at + delay
    with Session(engine) as session, session.begin():
        session.execute(
            update(TipDelivery)
            .where(col(TipDelivery.id) == row.id, col(TipDelivery.claimed_by) == run_id)
            .values(**values)
        )
    assert row.id is not None
    return Outcome(row.id, row.person_id, row.lesson, label, status, row.attempts, error)


def deliver_due(
    engine: Engine, settings: Settings, run_id: str, when: rules.RunTime
) -> list[Outcome]:
    """Retry what is due and recover what a crash left half-sent; return what happened."""
    outcomes: list[Outcome] = []
    after = 0
    while True:
        claimed, last = claim_due(engine, run_id, when, after=after)
        if claimed:
            outcomes.extend(send_claimed(engine, settings, run_id, when, claimed))
        if last is None:
            return outcomes
        after = last
