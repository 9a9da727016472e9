"""An owner's tip goes from one home, through the hub's moderators, to another home's lesson page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from home_fixtures import FAN_FEATURES, FAN_MODEL, LocalHome, make_home
from hub_fixtures import LiveHub, make_hub
from sqlmodel import Session, select
from web_fixtures import Web

from edu.community import link as community
from edu.community import tips as community_tips
from edu.db import unit_of_work
from edu.hub import tips as hub_tips
from edu.hub.moderators import add_moderator
from edu.models import Device, DeviceCapability, Household, Person

LESSON = "fan-natural-wind"
pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    live = LiveHub(make_hub(tmp_path / "tips-hub", min_homes=2))
    yield live
    live.close()


@pytest.fixture
def author(tmp_path: Path) -> Iterator[LocalHome]:
    home = make_home(tmp_path, 1)
    yield home
    home.close()


def write_and_send(home: LocalHome, text: str) -> int:
    with Session(home.engine) as session:
        person = session.exec(select(Person)).one()
        ids = (person.household_id, person.id or 0)
    draft = community_tips.write(
        home.engine,
        household_id=ids[0],
        person_id=ids[1],
        model=FAN_MODEL,
        lesson=LESSON,
        lang="en",
        text=text,
    )
    return community_tips.send(home.engine, home.settings, draft)


def test_a_tip_reaches_another_homes_lesson_page_only_after_approval(
    hub: LiveHub, author: LocalHome, app: Flask, web: Web
) -> None:
    community.join(author.engine, author.settings, hub.url)
    text = (
        "<script>alert(1)</script> At night, natural breeze on speed 1 feels like an open window."
    )
    hub_id = write_and_send(author, text)
    # the reader: a household on the page, with the same fan model
    web.setup()
    engine = app.extensions["edu.engine"]
    with unit_of_work(engine) as session:
        home = session.exec(select(Household)).one()
        device = Device(
            household_id=home.id or 0,
            did=777,
            ip="127.0.0.77",
            name="Hall fan",
            model=FAN_MODEL,
            family="fan",
            status="online",
        )
        session.add(device)
        session.flush()
        for feature in FAN_FEATURES:
            session.add(
                DeviceCapability(device_id=device.id or 0, capability=feature, setting=feature)
            )
    settings = app.config["EDU_SETTINGS"]
    community.join(engine, settings, hub.url)
    lesson_url = f"/lessons/{LESSON}?device=777"
    assert "natural breeze on speed 1" not in web.get(lesson_url).get_data(as_text=True)

    token = add_moderator(hub.engine, "Sam")
    moderator = hub.app.test_client()
    approved = moderator.post(
        f"/hub/v1/moderation/tips/{hub_id}",
        json={"action": "approve"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert approved.status_code == 200
    community.refresh_adoption(engine)
    page = web.get(lesson_url).get_data(as_text=True)
    assert "From other owners" in page and "natural breeze on speed 1" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page

    # the reader reports it; enough reports (3 homes) hide it until reviewed
    web.post(f"/community/tips/report/{hub_id}")
    with hub.engine.connect() as conn:
        flags = conn.execute(select(hub_tips.tip.c.flags)).scalar_one()  # type: ignore[call-overload]
    assert flags == 1


def test_a_tip_written_on_the_page_waits_for_the_admin_to_send_it(
    hub: LiveHub, app: Flask, web: Web
) -> None:
    web.setup()
    engine = app.extensions["edu.engine"]
    with unit_of_work(engine) as session:
        home = session.exec(select(Household)).one()
        device = Device(
            household_id=home.id or 0,
            did=778,
            ip="127.0.0.78",
            name="Fan",
            model=FAN_MODEL,
            family="fan",
            status="online",
        )
        session.add(device)
        session.flush()
        session.add(
            DeviceCapability(device_id=device.id or 0, capability="natural-wind", setting="x")
        )
    lesson_url = f"/lessons/{LESSON}?device=778"
    assert "Write a tip" not in web.get(lesson_url).get_data(as_text=True)  # not joined: off
    web.post("/community/", {"action": "join", "hub": hub.url})
    assert "Write a tip" in web.get(lesson_url).get_data(as_text=True)
    web.post("/community/tips/write", {"lesson": LESSON, "device": "778", "text": "Try speed 1."})
    assert hub_tips.queue(hub.engine) == []  # never sent by itself
    page = web.get("/community/").get_data(as_text=True)
    assert "Try speed 1." in page and "Send to the hub" in page
    with Session(engine) as session:
        draft = community_tips.drafts(session)[0]
    web.post(f"/community/tips/{draft.id}/send")
    queued = hub_tips.queue(hub.engine)
    assert [(t.model, t.lesson, t.text) for t in queued] == [(FAN_MODEL, LESSON, "Try speed 1.")]
    assert "waiting for a moderator" in web.get("/community/").get_data(as_text=True)
