"""Tips written by owners, on the hub: signed submissions, a moderators' queue, reports from homes.

A home sends a tip (light Markdown, at most 800 characters, links only to allow-listed
hosts) about a lesson on one of its models; it waits in the queue until a moderator (see
`edu.hub.moderators`; the API or the moderation pages) approves it, edits it, or rejects it
with a reason. Approved tips are public per model and lesson. Homes may report (flag) a tip:
a reported tip comes back to the queue while still shown, and one reported by enough homes
is hidden until a moderator reviews it again. Text is stored as sent and rendered by
`edu.markup.tip_html` wherever it is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Engine

from edu.hub.protocol import Message, ProtocolError
from edu.hub.store import claim, flag, tip
from edu.markup import link_allowed

STATES = ("pending", "approved", "rejected", "hidden")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")


@dataclass(frozen=True)
class Tip:
    """A tip as the queue or the public list shows it."""

    id: int
    model: str
    lesson: str
    lang: str
    text: str
    state: str
    reason: str
    flags: int


def check_links(text: str, allowed: tuple[str, ...]) -> None:
    """Refuse a link to a host that is not allowed (or below one that is)."""
    for found in _URL.findall(text):
        if not link_allowed(found if "://" in found else f"https://{found}", allowed):
            raise ProtocolError(
                "malformed", "a tip links only to " + (", ".join(allowed) or "nothing")
            )


def submit(
    engine: Engine, message: Message, now: datetime, per_hour: int, allowed: tuple[str, ...]
) -> int:
    """Queue a home's tip; return its id."""
    check_links(message.fields["text"], allowed)
    with engine.begin() as conn:
        home_id = claim(conn, message, now, per_hour)
        values = {**message.fields, "home_id": home_id, "state": "pending", "created_at": now}
        result = conn.execute(insert(tip).values(**values, reason="", flags=0))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def flag_tip(engine: Engine, message: Message, now: datetime, per_hour: int, hide_at: int) -> str:
    """Count a home's flag on an approved tip (once per home); hide it at *hide_at* flags."""
    tip_id = message.fields["tip"]
    with engine.begin() as conn:
        home_id = claim(conn, message, now, per_hour)
        row = conn.execute(select(tip.c.state).where(tip.c.id == tip_id)).first()
        if row is None or row.state != "approved":
            raise ProtocolError("not-found", "no published tip has that id", 404)
        if conn.execute(
            select(flag).where(flag.c.tip_id == tip_id, flag.c.home_id == home_id)
        ).first():
            return "approved"
        conn.execute(insert(flag).values(tip_id=tip_id, home_id=home_id))
        flags = int(conn.execute(select(tip.c.flags).where(tip.c.id == tip_id)).scalar_one()) + 1
        state = "hidden" if flags >= hide_at else "approved"
        conn.execute(update(tip).where(tip.c.id == tip_id).values(flags=flags, state=state))
        return state


def _tips(engine: Engine, query: object) -> list[Tip]:
    with engine.connect() as conn:
        return [
            Tip(r.id, r.model, r.lesson, r.lang, r.text, r.state, r.reason, r.flags)
            for r in conn.execute(query)  # type: ignore[call-overload]
        ]


def published(engine: Engine, model: str, lesson: str | None = None) -> list[Tip]:
    """Approved tips about a model (and a lesson), oldest first."""
    query = select(tip).where(tip.c.model == model, tip.c.state == "approved")
    if lesson:
        query = query.where(tip.c.lesson == lesson)
    return _tips(engine, query.order_by(tip.c.id))


def queue(engine: Engine) -> list[Tip]:
    """Tips waiting for a moderator: new ones, and reported ones (hidden or still shown)."""
    waiting = or_(
        tip.c.state.in_(("pending", "hidden")),
        and_(tip.c.state == "approved", tip.c.flags > 0),
    )
    return _tips(engine, select(tip).where(waiting).order_by(tip.c.id))


def review(
    engine: Engine,
    tip_id: int,
    action: str,
    now: datetime,
    *,
    reason: str = "",
    text: str | None = None,
    allowed: tuple[str, ...] = (),
) -> Tip:
    """Approve, reject (with a reason) or edit (and approve) a tip in the queue."""
    if action not in ("approve", "reject", "edit"):
        raise ProtocolError("bad-input", "action is approve, reject or edit")
    values: dict[str, object] = {"reviewed_at": now}
    if action == "reject":
        if not reason.strip():
            raise ProtocolError("bad-input", "say why the tip is rejected")
        values |= {"state": "rejected", "reason": reason.strip()[:300]}
    else:
        values |= {"state": "approved", "flags": 0, "reason": ""}
    if action == "edit":
        if not isinstance(text, str) or not text.strip() or len(text) > 800:
            raise ProtocolError("bad-input", "an edited tip is 1 to 800 characters of text")
        check_links(text, allowed)
        values["text"] = text.strip()
    with engine.begin() as conn:
        done = conn.execute(update(tip).where(tip.c.id == tip_id).values(**values))
        if not getattr(done, "rowcount", 0):
            raise ProtocolError("not-found", "no tip has that id", 404)
        if action != "reject":
            conn.execute(delete(flag).where(flag.c.tip_id == tip_id))
    found = _tips(engine, select(tip).where(tip.c.id == tip_id))
    return found[0]
