"""Joining the community hub: the key, the weekly report (preview = what is sent), leaving, the table.

Off until the admin joins. Joining makes an Ed25519 key in the instance folder (mode 0600,
never printed) and registers its public half with the hub. A report is the bytes
`preview` returns, signed (a shop in store mode sends a shop report, `edu.community.shop`);
`send` posts them (the scheduler does so weekly) and then
fetches the hub's published table for the household's models, which ranking reads. Leaving
asks the hub to delete the home's data, then forgets the key, the link and the table.
Offline or never joined, nothing here runs and recommendations are as before.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from edu.community.data import CommunityAdoption, CommunityLink, CommunityTip, household_models
from edu.community.shop import PATHS, weekly_message
from edu.config import Settings
from edu.db import unit_of_work, utcnow
from edu.hub.protocol import (
    SIGNATURE_HEADER,
    encode,
    load_private,
    message,
    new_key,
    private_bytes,
    sign,
)
from edu.models import Household
from edu.revisions import bump_all

logger = logging.getLogger(__name__)

KEY_FILE = "community-key.pem"
SEND_EVERY = timedelta(days=7)
TIMEOUT = 10.0
Clock = Callable[[], datetime]


class CommunityError(ValueError):
    """Something the admin must fix or retry: not joined, a bad address, a refusal by the hub."""


# -- the key ---------------------------------------------------------------------------------


def key_path(settings: Settings) -> Path:
    """Where the household's signing key lives."""
    return settings.instance / KEY_FILE


def load_key(settings: Settings) -> Any:
    """Read the household's signing key (CommunityError when it has not joined)."""
    try:
        return load_private(key_path(settings).read_bytes())
    except FileNotFoundError:
        raise CommunityError(
            "this household has not joined a hub (edu community join --hub URL)"
        ) from None


def _make_key(settings: Settings) -> Any:
    """Return the key, making it (readable by this user only) when there is none."""
    path = key_path(settings)
    if path.exists():
        return load_key(settings)
    settings.ensure_instance()
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_bytes(key))
    return key


# -- talking to the hub ----------------------------------------------------------------------


def check_hub_url(url: str) -> str:
    """Return the hub's base address without a trailing slash, or raise CommunityError."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommunityError(f"a hub address looks like https://hub.example.org, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise CommunityError("a hub address has no query, fragment or credentials")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def fetch_json(url: str, body: bytes | None = None, signature: str | None = None) -> Any:
    """GET *url* (or POST *body*, signed) and return its JSON; CommunityError in one line."""
    headers = {"Content-Type": "application/json", "User-Agent": "Feature Coach"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    # check_hub_url let only http and https through
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers=headers, method="POST" if body else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (http/https only)
            return json.loads(response.read(1024 * 1024) or b"null")
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read(4096)).get("message") or exc.reason
        except (ValueError, AttributeError):
            reason = exc.reason
        raise CommunityError(
            f"the hub refused ({exc.code}): {str(reason).splitlines()[0]}"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommunityError(f"cannot reach the hub: {str(reason).splitlines()[0]}") from None


def post_signed(hub: str, kind: str, key: Any, body: bytes) -> Any:
    """Post a message's exact bytes to the hub's /hub/v1/*kind*, signed with *key*."""
    return fetch_json(f"{hub}/hub/v1/{kind}", body, sign(key, body))


# -- the household's link --------------------------------------------------------------------


def _household_id(session: Session) -> int:
    from sqlmodel import select

    household = session.exec(select(Household).order_by(col(Household.id))).first()
    if household is None or household.id is None:
        raise CommunityError("set the household up first (edu init)")
    return household.id


def link(session: Session) -> CommunityLink | None:
    """The household's link to a hub, or None when it has not joined."""
    from sqlmodel import select

    return session.exec(select(CommunityLink)).first()


def simulated_hub(session: Session) -> bool:
    """Tell whether the household's hub said its homes are simulated (the demo's hub)."""
    found = link(session)
    return found is not None and found.hub_simulated


def status(engine: Engine) -> dict[str, Any]:
    """What the admin sees: joined or not, where, when last sent and how it went (never the key)."""
    with Session(engine) as session:
        found = link(session)
        published = len(list(session.exec(_all_adoption())))
        if found is None:
            return {
                "joined": False,
                "hub": None,
                "last_sent_at": None,
                "last_result": "",
                "published": 0,
                "simulated": False,
            }
        return {
            "joined": True,
            "hub": found.hub_url,
            "joined_at": found.joined_at.isoformat(),
            "last_sent_at": found.last_sent_at.isoformat() if found.last_sent_at else None,
            "last_result": found.last_result,
            "reports_sent": found.seq,
            "published": published,
            "simulated": found.hub_simulated,
        }


def _all_adoption() -> Any:
    from sqlmodel import select

    return select(CommunityAdoption.id)


def join(
    engine: Engine, settings: Settings, hub_url: str, *, clock: Clock = utcnow
) -> dict[str, Any]:
    """Make the key (once), register it with the hub, remember the hub; return the status."""
    hub = check_hub_url(hub_url)
    with Session(engine) as session:
        household_id = _household_id(session)
        found = link(session)
        if found is not None and found.hub_url != hub:
            raise CommunityError(f"already joined {found.hub_url}: leave it first")
    key = _make_key(settings)
    now = clock()
    answer = post_signed(hub, "join", key, encode(message(key, "join", 0, int(now.timestamp()))))
    simulated = isinstance(answer, dict) and answer.get("simulated") is True
    with unit_of_work(engine) as session:
        found = link(session)
        if found is None:
            found = CommunityLink(household_id=household_id, hub_url=hub, joined_at=now)
            session.add(found)
        found.hub_simulated = simulated
    logger.info("joined the community hub at %s", hub)
    try:
        refresh_adoption(engine)
    except CommunityError as exc:
        logger.warning("could not fetch the hub's table: %s", exc)
    return status(engine)


def preview(engine: Engine, settings: Settings, *, clock: Clock = utcnow) -> bytes:
    """Return exactly the bytes the next report would send (the key's public half included):
    a shop report in store mode, else the household report."""
    key = load_key(settings)
    with Session(engine) as session:
        found = link(session)
        if found is None:
            raise CommunityError(
                "this household has not joined a hub (edu community join --hub URL)"
            )
        body = weekly_message(session, key, found.household_id, found.seq + 1, clock())
    return encode(body)


def send(engine: Engine, settings: Settings, *, clock: Clock = utcnow) -> dict[str, Any]:
    """Sign and send the report now, then fetch the hub's table; return the hub's answer."""
    body = preview(engine, settings, clock=clock)
    key = load_key(settings)
    sent = json.loads(body)
    with unit_of_work(engine) as session:
        found = link(session)
        assert found is not None
        # the sequence is spent before sending: a report the hub took but whose answer
        # was lost must not make the next one look like a replay
        found.seq = max(found.seq, int(sent["seq"]))
        hub = found.hub_url
    try:
        answer = post_signed(hub, PATHS[sent["type"]], key, body)
        result = f"sent: {len(sent['models'])} model(s)"
    except CommunityError as exc:
        result, answer = str(exc), None
    with unit_of_work(engine) as session:
        found = link(session)
        if found is not None:
            found.last_result = result[:300]
            if answer is not None:
                found.last_sent_at = clock()
    if answer is None:
        raise CommunityError(result)
    try:
        refresh_adoption(engine)
    except CommunityError as exc:
        logger.warning("could not fetch the hub's table: %s", exc)
    return {
        "hub": hub,
        "type": sent["type"],
        "seq": sent["seq"],
        "models": len(sent["models"]),
        "answer": answer,
    }


def send_if_due(engine: Engine, settings: Settings, *, clock: Clock = utcnow) -> str:
    """Send when joined and a week has passed since the last report (the weekly job)."""
    with Session(engine) as session:
        found = link(session)
        if found is None:
            return "not joined"
        last = found.last_sent_at
    if last is not None and clock() - last < SEND_EVERY:
        return "not due"
    try:
        send(engine, settings, clock=clock)
    except CommunityError as exc:
        return f"not sent: {exc}"
    return "sent"


def leave(engine: Engine, settings: Settings, *, clock: Clock = utcnow) -> dict[str, Any]:
    """Ask the hub to delete the home's data, then forget the key, the link and the table."""
    key = load_key(settings)
    with unit_of_work(engine) as session:
        found = link(session)
        if found is None:
            raise CommunityError("this household has not joined a hub")
        found.seq += 1
        hub, seq = found.hub_url, found.seq
    body = encode(message(key, "leave", seq, int(clock().timestamp())))
    try:
        post_signed(hub, "leave", key, body)
    except CommunityError as exc:
        if "(401)" not in str(exc):  # a hub that no longer knows the key has nothing to delete
            raise
    with unit_of_work(engine) as session:
        session.execute(delete(CommunityAdoption))
        session.execute(delete(CommunityTip))
        session.execute(delete(CommunityLink))
        bump_all(session)  # the pages drop the owners' figures and tips
    key_path(settings).unlink(missing_ok=True)
    logger.info("left the community hub at %s", hub)
    return {"left": True, "hub": hub}


def refresh_adoption(engine: Engine, *, clock: Clock = utcnow) -> int:
    """Fetch the hub's published pairs and approved tips for the household's models; return
    how many pairs are kept."""
    with Session(engine) as session:
        found = link(session)
        if found is None:
            return 0
        hub = found.hub_url
        models = household_models(session, found.household_id)
    fetched: list[CommunityAdoption] = []
    for model in models:
        query = urllib.parse.urlencode({"model": model})
        rows = fetch_json(f"{hub}/hub/v1/adoption?{query}")
        if not isinstance(rows, list):
            raise CommunityError("the hub's table is not a list")
        for row in rows:
            try:
                homes, using = int(row["homes"]), int(row["using"])
                capability = str(row["capability"])[:80]
            except (KeyError, TypeError, ValueError):
                raise CommunityError(
                    "the hub's table has a row without capability, homes, using"
                ) from None
            if homes > 0 and 0 <= using <= homes:
                fetched.append(
                    CommunityAdoption(model=model, capability=capability, homes=homes, in_use=using)
                )
    tips = [tip for model in models for tip in _fetch_tips(hub, model)]
    with unit_of_work(engine) as session:
        session.execute(delete(CommunityAdoption))
        session.add_all(fetched)
        session.execute(delete(CommunityTip))
        session.add_all(tips)
        bump_all(session)  # the pages show the new figures and tips
        found = link(session)
        if found is not None:
            found.adoption_fetched_at = clock()
    return len(fetched)


def _fetch_tips(hub: str, model: str) -> list[CommunityTip]:
    rows = fetch_json(f"{hub}/hub/v1/tips?{urllib.parse.urlencode({'model': model})}")
    if not isinstance(rows, list):
        raise CommunityError("the hub's tips are not a list")
    try:
        return [
            CommunityTip(
                hub_id=int(row["id"]),
                model=model,
                lesson=str(row["lesson"])[:80],
                lang=str(row["lang"])[:8],
                text=str(row["text"])[:800],
            )
            for row in rows
        ]
    except (KeyError, TypeError, ValueError):
        raise CommunityError("the hub sent a tip without id, lesson, lang or text") from None
