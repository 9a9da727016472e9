"""Tips written by owners: drafts at home, sent by the admin to the hub, and tips from other owners.

Anyone at home may write a short tip (plain text, at most 800 characters) under a lesson for
the model of their device; it stays a draft until the admin sends it, signed by the home.
Approved tips come back with the hub's table (`community.refresh_adoption`) and are shown
under the lesson, marked as from other owners; anyone may report one to the moderators.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from edu.community import link as community
from edu.community.data import CommunityTip, CommunityTipDraft
from edu.config import Settings
from edu.db import unit_of_work, utcnow
from edu.hub.protocol import MAX_TIP, encode, message

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def write(
    engine: Engine,
    *,
    household_id: int,
    person_id: int,
    model: str,
    lesson: str,
    lang: str,
    text: str,
) -> int:
    """Keep a tip someone wrote as a draft for the admin; return its id."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n")).strip()
    if not text or len(text) > MAX_TIP:
        raise community.CommunityError(f"a tip is 1 to {MAX_TIP} characters")
    with unit_of_work(engine) as session:
        draft = CommunityTipDraft(
            household_id=household_id,
            person_id=person_id,
            model=model,
            lesson=lesson,
            lang=lang if lang in ("en", "zh-CN") else "en",
            text=text,
            created_at=utcnow(),
        )
        session.add(draft)
        session.flush()
        assert draft.id is not None
        return draft.id


def drafts(session: Session) -> list[CommunityTipDraft]:
    """Every tip written at home, newest first."""
    query = select(CommunityTipDraft).order_by(col(CommunityTipDraft.id).desc())
    return list(session.exec(query))


def _spend_seq(engine: Engine) -> tuple[str, int]:
    with unit_of_work(engine) as session:
        found = community.link(session)
        if found is None:
            raise community.CommunityError("this household has not joined a hub")
        found.seq += 1
        return found.hub_url, found.seq


def send(engine: Engine, settings: Settings, draft_id: int) -> int:
    """Send one draft to the hub's moderators, signed by the home; return the hub's tip id."""
    with Session(engine) as session:
        draft = session.get(CommunityTipDraft, draft_id)
        if draft is None:
            raise community.CommunityError("no tip has that id")
        if draft.sent_at is not None:
            raise community.CommunityError("that tip was sent already")
        fields: dict[str, Any] = {
            "model": draft.model,
            "lesson": draft.lesson,
            "lang": draft.lang,
            "text": draft.text,
        }
    key = community.load_key(settings)
    hub, seq = _spend_seq(engine)
    body = encode(message(key, "tip", seq, int(utcnow().timestamp()), **fields))
    try:
        answer = community.post_signed(hub, "tips", key, body)
    except community.CommunityError as exc:
        with unit_of_work(engine) as session:
            found = session.get(CommunityTipDraft, draft_id)
            if found is not None:
                found.last_result = str(exc)[:300]
        raise
    with unit_of_work(engine) as session:
        found = session.get(CommunityTipDraft, draft_id)
        assert found is not None
        found.sent_at, found.hub_id = utcnow(), int(answer["id"])
        found.last_result = "waiting for a moderator"
    logger.info("sent tip %s to the hub's moderators", draft_id)
    return int(answer["id"])


def from_owners(session: Session, model: str | None, lesson: str) -> list[CommunityTip]:
    """Approved tips from other owners about this model and lesson."""
    if not model:
        return []
    query = select(CommunityTip).where(CommunityTip.model == model, CommunityTip.lesson == lesson)
    return list(session.exec(query.order_by(col(CommunityTip.hub_id))))


def report(engine: Engine, settings: Settings, hub_id: int) -> str:
    """Report a tip from other owners to the hub's moderators; return its state there."""
    key = community.load_key(settings)
    hub, seq = _spend_seq(engine)
    body = encode(message(key, "flag", seq, int(utcnow().timestamp()), tip=hub_id))
    answer = community.post_signed(hub, "tips/flag", key, body)
    return str(answer.get("state", ""))
