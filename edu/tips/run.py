"""The tip run: for each person whose cadence is due, the top recommendation not yet sent.

`run_tips(engine, settings, now)` is a plain function: the scheduler calls it every few
minutes, `edu tips run` calls it once, tests call it with a fixed clock. A naive *now* is
read as each household's local time.

Per chunk of households, in one transaction: the people's policies, the tips they already
had, and their next tip; then the inbox item and its ledger row (``sent``: the inbox is
written in that same transaction) and one ``sending`` ledger row per Apprise channel. After
the commit the channel rows are sent and marked one by one (`edu.tips.delivery`). The
ledger's unique key (person, lesson, channel) keeps a second worker or a rerun from
sending a tip twice: a chunk that collides with one is read again and decided anew.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from edu.catalogue import catalogue
from edu.community.data import table_for_states as hub_table
from edu.config import Settings
from edu.db import utcnow
from edu.models import Household, Person
from edu.services.recommend import Recommendation
from edu.state import PersonRow, read_states
from edu.tips import policy as rules
from edu.tips.delivery import CLAIM, Outcome, deliver_due, send_claimed
from edu.tips.links import LinkMaker
from edu.tips.models import INBOX, InboxItem, TipChannel, TipDelivery, TipMute, TipPolicy, policy_of
from edu.tips.pick import Picker
from lessons.catalogue import Catalogue

logger = logging.getLogger(__name__)

CHUNK = 250  # households per transaction
HISTORY = timedelta(days=8)  # enough tips back to count this week's


@dataclass
class TipReport:
    """What one tip run did."""

    run_id: str
    now: str
    people: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    tips: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    retried: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "now": self.now,
            "people": self.people,
            "tips_sent": self.sent,
            "decisions": dict(sorted(self.decisions.items())),
            "deliveries": dict(sorted(self.deliveries.items())),
            "tips": self.tips,
            "retried": self.retried,
        }


@dataclass
class _Chunk:
    """The rows one chunk of households adds, and the report lines for them."""

    inbox: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    tips: list[dict[str, Any]] = field(default_factory=list)
    decisions: Counter[str] = field(default_factory=Counter)
    people: int = 0
    external: int = 0


def run_tips(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    collect: bool = True,
    send_external: bool = True,
    chunk: int = CHUNK,
) -> TipReport:
    """Run the tip run once at *now* (naive: each household's local time); return what it did."""
    now = now or utcnow()
    when = rules.RunTime(now)
    run_id = uuid.uuid4().hex
    report = TipReport(run_id, now.isoformat())
    if send_external:
        for outcome in deliver_due(engine, settings, run_id, when):
            report.deliveries[outcome.status] += 1
            report.retried.append(outcome.to_dict())
    links = LinkMaker(settings)
    with Session(engine) as session:
        household_ids = [
            hid for hid in session.exec(select(Household.id).order_by(col(Household.id))) if hid
        ]
    for start in range(0, len(household_ids), chunk):
        ids = household_ids[start : start + chunk]
        done = _run_chunk(engine, ids, when, run_id, links)
        report.people += done.people
        report.decisions.update(done.decisions)
        report.sent += len(done.inbox)
        report.deliveries["sent"] += len(done.inbox)
        if collect:
            report.tips.extend(done.tips)
        if done.external and send_external:
            _record(
                report, done.tips if collect else None, send_claimed(engine, settings, run_id, when)
            )
    logger.info("tip run %s: %d tip(s) to %d people", run_id[:8], report.sent, report.people)
    return report


def _record(report: TipReport, tips: list[dict[str, Any]] | None, outcomes: list[Outcome]) -> None:
    by_key = {(t["person_id"], t["lesson"]): t for t in tips} if tips else {}
    for outcome in outcomes:
        report.deliveries[outcome.status] += 1
        tip = by_key.get((outcome.person_id, outcome.lesson))
        if tip is not None:
            tip["channels"][outcome.channel] = outcome.status


def _run_chunk(
    engine: Engine, ids: list[int], when: rules.RunTime, run_id: str, links: LinkMaker
) -> _Chunk:
    for attempt in range(3):
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                done = _plan_chunk(session, ids, when, run_id, links)
                if done.inbox:
                    session.execute(insert(InboxItem), done.inbox)
                    session.execute(insert(TipDelivery), done.ledger)
            return done
        except IntegrityError:
            # Another run (a second worker, a manual `edu tips run`) got there first: read again.
            logger.info(
                "tip run %s: another run wrote the same tips; deciding again (%d)",
                run_id[:8],
                attempt + 1,
            )
    raise RuntimeError(
        "the tip run kept colliding with another run; is a second worker running without the lease?"
    )


def _plan_chunk(
    session: Session,
    ids: list[int],
    when: rules.RunTime,
    run_id: str,
    links: LinkMaker,
) -> _Chunk:
    in_chunk = col(Household.id).in_(ids)
    households = list(session.exec(select(Household).where(in_chunk).order_by(col(Household.id))))
    states = read_states(session, households)
    person_ids = [p.id for s in states.values() for p in s.people]
    done = _Chunk()
    if not person_ids:
        return done
    extras, adoption = _PeopleExtras.load(session, ids, when), hub_table(session, states.values())
    # lessons come from devices: with none here, nothing to teach and no catalogue to load
    book = catalogue() if any(s.devices for s in states.values()) else Catalogue()
    for household in households:
        assert household.id is not None
        state = states[household.id]
        local, at = when.at(household.timezone)
        picker = Picker(state, book, at, adoption)  # builds its ranking lazily, on the first pick
        for person in state.people:
            assert person.id is not None
            done.people += 1
            decision, pick = next_tip(person, extras, local, picker)
            if not decision:
                done.decisions[decision.reason] += 1
                continue
            if pick is None:
                done.decisions["nothing-to-teach"] += 1
                continue
            done.decisions["due"] += 1
            channels = extras.channels.get(person.id, [])
            _add_tip(done, household.id, person, pick, at, run_id, links, channels)
    return done


def next_tip(
    person: PersonRow,
    extras: _PeopleExtras,
    local: datetime,
    picker: Picker,
    *,
    even_if_not_due: bool = False,
) -> tuple[rules.Decision, Recommendation | None]:
    """Decide whether *person* is due a tip now and choose it: the run's choice and the preview's.

    The tip is the best recommendation about an online, unmuted device that was never tipped;
    none is chosen when the person is not due, unless *even_if_not_due* (the preview shows it).
    """
    pid = person.id
    assert pid is not None
    policy = policy_of(extras.policies.get(pid))
    decision = rules.decide(policy, local, rules.count_tips(extras.history.get(pid, ()), local))
    if not decision and not even_if_not_due:
        return decision, None
    sent = extras.lessons.get(pid, set())
    muted = extras.muted.get(pid, set())
    pick = picker.pick(
        person,
        lambda device, lesson: (
            device.status == "online" and device.id not in muted and lesson not in sent
        ),
    )
    return decision, pick


def _add_tip(
    done: _Chunk,
    household_id: int,
    person: PersonRow,
    pick: Recommendation,
    at: datetime,
    run_id: str,
    links: LinkMaker,
    channels: list[tuple[int, str]],
) -> None:
    pid = person.id
    link = links.lesson(pick.lesson)
    done.inbox.append(
        {
            "person_id": pid,
            "lesson": pick.lesson,
            "capability": pick.capability,
            "device_did": pick.device,
            "device_name": pick.device_name,
            "title": pick.title,
            "summary": pick.summary,
            "link": link,
            "reason": pick.reason,
            "created_at": at,
            "read_at": None,
        }
    )
    base = {
        "person_id": pid,
        "lesson": pick.lesson,
        "device_did": pick.device,
        "title": pick.title,
        "summary": pick.summary,
        "link": link,
        "created_at": at,
        "next_attempt_at": None,
        "sent_at": None,
        "last_error": "",
        "attempts": 1,
    }
    done.ledger.append(
        {
            **base,
            "channel": INBOX,
            "channel_id": None,
            "status": "sent",
            "sent_at": at,
            "idempotency_key": uuid.uuid4().hex,
            "claimed_by": None,
            "claimed_until": None,
        }
    )
    statuses = {"inbox": "sent"}
    for channel_id, label in channels:
        done.ledger.append(
            {
                **base,
                "channel": f"channel:{channel_id}",
                "channel_id": channel_id,
                "status": "sending",
                "idempotency_key": uuid.uuid4().hex,
                "claimed_by": run_id,
                "claimed_until": at + CLAIM,
            }
        )
        statuses[label] = "sending"
        done.external += 1
    done.tips.append(
        {
            "person": person.name,
            "person_id": pid,
            "household": household_id,
            "lesson": pick.lesson,
            "title": pick.title,
            "summary": pick.summary,
            "device": pick.device,
            "device_name": pick.device_name,
            "reason": pick.reason,
            "link": link,
            "channels": statuses,
        }
    )


@dataclass
class _PeopleExtras:
    """What the tip run reads about the people of a chunk besides their recommendations."""

    policies: dict[int, TipPolicy]
    history: dict[int, list[datetime]]  # recent tip times, for the caps
    lessons: dict[int, set[str]]  # every lesson ever tipped
    muted: dict[int, set[int]]
    channels: dict[int, list[tuple[int, str]]]

    @classmethod
    def load(cls, session: Session, household_ids: list[int], when: rules.RunTime) -> _PeopleExtras:
        in_chunk = col(Person.household_id).in_(household_ids)
        by_person = col(Person.id)
        policies = {
            row.person_id: row
            for row in session.exec(
                select(TipPolicy)
                .join(Person, col(TipPolicy.person_id) == by_person)
                .where(in_chunk)
            )
        }
        since = when.as_utc - HISTORY - timedelta(days=1)
        history: dict[int, list[datetime]] = defaultdict(list)
        lessons: dict[int, set[str]] = defaultdict(set)
        tipped = session.exec(
            select(InboxItem.person_id, InboxItem.lesson, InboxItem.created_at)
            .join(Person, col(InboxItem.person_id) == by_person)
            .where(in_chunk)
        )
        for person_id, lesson, created in tipped:
            lessons[person_id].add(lesson)
            if created >= since:
                history[person_id].append(created)
        muted: dict[int, set[int]] = defaultdict(set)
        for mute in session.exec(
            select(TipMute).join(Person, col(TipMute.person_id) == by_person).where(in_chunk)
        ):
            muted[mute.person_id].add(mute.device_id)
        channels: dict[int, list[tuple[int, str]]] = defaultdict(list)
        rows = session.exec(
            select(TipChannel.person_id, TipChannel.id, TipChannel.label)
            .join(Person, col(TipChannel.person_id) == by_person)
            .where(in_chunk, col(TipChannel.enabled).is_(True))
            .order_by(col(TipChannel.id))
        )
        for person_id, channel_id, label in rows:
            if channel_id is not None:
                channels[person_id].append((channel_id, label))
        return cls(policies, history, lessons, muted, channels)


def preview(
    engine: Engine, settings: Settings, person_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Return the tip *person_id* would get at *now*, and whether it is due, without sending."""
    now = now or utcnow()
    with Session(engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            raise ValueError("no such person")
        household = session.get(Household, person.household_id)
        assert household is not None
        state = read_states(session, [household])[person.household_id]
        when = rules.RunTime(now)
        extras = _PeopleExtras.load(session, [person.household_id], when)
        local, at = when.at(household.timezone)
        me = next(p for p in state.people if p.id == person_id)
        picker = Picker(state, catalogue(), at, hub_table(session, [state]))
        decision, pick = next_tip(me, extras, local, picker, even_if_not_due=True)
        links = LinkMaker(settings)
        tip = None
        if pick is not None:
            tip = {
                "lesson": pick.lesson,
                "title": pick.title,
                "summary": pick.summary,
                "device": pick.device,
                "device_name": pick.device_name,
                "reason": pick.reason,
                "link": links.lesson(pick.lesson),
            }
        return {
            "person": person.name,
            "local_time": local.isoformat(),
            "due": decision.due,
            "decision": decision.reason,
            "tip": tip,
            "channels": ["inbox", *(label for _, label in extras.channels.get(person_id, []))],
        }
